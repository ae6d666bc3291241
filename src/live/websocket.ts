import { createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type DocumentNode, type ExecutionResult, Kind, OperationTypeNode } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CallerAuthenticator } from '../caller-auth.js';
import type { LiveOrigin } from './service.js';
import { readServerSentEvents } from './sse-reader.js';

/** What the WebSocket transport hands every operation to: the GraphQL handler, as for HTTP. */
export interface GraphQLHandler {
  handleRequest(
    request: Request,
    serverContext: Record<string, unknown>,
  ): Promise<Response> | Response;
}

export interface WebSocketTransportOptions {
  server: Server;
  /** The path it answers upgrades on: "/graphql". */
  path: string;
  authenticator: CallerAuthenticator;
  handler: GraphQLHandler;
  /** The largest message a client may send (server.maxRequestBytes). */
  maxPayload: number;
  /** True from the start of the drain: no new WebSocket is accepted. */
  draining(): boolean;
}

export interface WebSocketTransport {
  /** Open sockets now. */
  sockets(): number;
  /** Closes every socket with 1001 "Going away" (the drain). */
  close(): void;
}

/**
 * A stand-in document: graphql-ws asks for one to tell subscriptions from queries, but every
 * operation of this transport is run by the GraphQL handler (see `runOperation`), so each one goes
 * through `subscribe` below whatever its type.
 */
const HANDLED_ELSEWHERE: DocumentNode = {
  kind: Kind.DOCUMENT,
  definitions: [
    {
      kind: Kind.OPERATION_DEFINITION,
      operation: OperationTypeNode.SUBSCRIPTION,
      selectionSet: { kind: Kind.SELECTION_SET, selections: [] },
    },
  ],
};

interface SocketState {
  authorization: string | undefined;
  origin: LiveOrigin;
}

interface OperationContext {
  state: SocketState;
  payload: {
    query?: string;
    operationName?: string | null;
    variables?: Record<string, unknown> | null;
    extensions?: Record<string, unknown> | null;
  };
}

/**
 * The graphql-transport-ws protocol (graphql-ws with ws) on the HTTP server's port and path.
 * The caller is authenticated from `connection_init`'s payload (`Authorization`, or
 * `authorization`) before any operation starts; a refused socket closes with 4401 (no
 * credentials) or 4403 (refused). Each operation is then run by the same GraphQL handler as an
 * HTTP request over Server-Sent Events would be, with the same credentials: the same plugins,
 * limits, tenant and errors apply, and its events are relayed as `next` messages.
 */
export function attachWebSocketTransport(options: WebSocketTransportOptions): WebSocketTransport {
  const { authenticator, handler } = options;
  const states = new WeakMap<WebSocket, SocketState>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload });

  options.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== options.path || options.draining()) {
      socket.end(
        `HTTP/1.1 ${options.draining() ? '503 Service Unavailable' : '404 Not Found'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  useServer<Record<string, unknown> | undefined, { socket: WebSocket; request: IncomingMessage }>(
    {
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const sent = params.Authorization ?? params.authorization;
        const authorization = typeof sent === 'string' ? sent : undefined;
        const { socket, request } = ctx.extra;
        if (authenticator.required) {
          const result = await authenticator.authenticate(authorization ?? null);
          if (!result.ok) {
            // graphql-ws's own codes: 4401 Unauthorized without credentials, 4403 Forbidden else.
            if (authorization === undefined) socket.close(CloseCode.Unauthorized, 'Unauthorized');
            return false;
          }
        }
        states.set(socket, {
          authorization,
          origin: {
            caller: callerOf(authorization, request),
            connection: socket,
            disconnect: () => socket.terminate(),
          },
        });
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        const state = states.get(ctx.extra.socket) as SocketState;
        const contextValue: OperationContext = { state, payload };
        return { schema: undefined as never, document: HANDLED_ELSEWHERE, contextValue };
      },
      subscribe: (args) => runOperation(handler, args.contextValue as OperationContext),
      // The handler's results are already in their response form (errors formatted): sent as is.
      onNext: (_ctx, _id, _payload, _args, result) => result as never,
    },
    wss,
  );

  return {
    sockets: () => wss.clients.size,
    close() {
      for (const client of wss.clients) client.close(1001, 'Going away');
    },
  };
}

/**
 * The caller a subscription is counted against: a digest of its credential (never the credential
 * itself), or its address when it sent none.
 */
export function callerOf(authorization: string | undefined, request: IncomingMessage): string {
  if (authorization !== undefined && authorization !== '') {
    return `credential:${createHash('sha256').update(authorization).digest('base64url')}`;
  }
  return `address:${request.socket.remoteAddress ?? ''}`;
}

/** A W3C `traceparent`: version, trace id, parent span id and flags, in lower-case hex. */
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** A W3C `tracestate` as a header may hold it: printable ASCII, at most 512 characters. */
const TRACESTATE = /^[\x20-\x7e]{1,512}$/;

/**
 * The caller's trace context of one operation: `traceparent` (and `tracestate`) in its
 * `extensions`, handed to the handler as the headers an HTTP caller would send, so its server
 * span continues that trace. Only the operation's own: one in `connection_init` would make every
 * operation of a socket, which may live for hours, a child of whatever span opened it. Anything
 * else there is ignored: the operation is then a trace of its own.
 */
function traceContextOf(
  extensions: Record<string, unknown> | null | undefined,
): Record<string, string> {
  const traceparent = extensions?.traceparent;
  if (typeof traceparent !== 'string' || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = extensions?.tracestate;
  return typeof tracestate === 'string' && TRACESTATE.test(tracestate)
    ? { traceparent, tracestate }
    : { traceparent };
}

/**
 * One operation of a socket, run by the GraphQL handler over Server-Sent Events. The handler's
 * plugins observe it as any HTTP request: counted in the request metrics under its operation
 * name and the response's status (200 for a stream that started), and, with tracing on, one
 * server span: a query's provider reads are its children, a subscription's polls traces of their
 * own (the hub's polls serve every subscriber alike).
 */
async function runOperation(
  handler: GraphQLHandler,
  { state, payload }: OperationContext,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
  };
  if (state.authorization !== undefined) headers.authorization = state.authorization;
  Object.assign(headers, traceContextOf(payload.extensions));
  // Aborted when the client completes the operation or leaves, as an HTTP client's request is when
  // it goes away; its stream is cancelled then too (endingAtReturn).
  const abort = new AbortController();
  const request = new Request('http://websocket/graphql', {
    method: 'POST',
    signal: abort.signal,
    headers,
    body: JSON.stringify({
      query: payload.query,
      operationName: payload.operationName ?? undefined,
      variables: payload.variables ?? undefined,
      extensions: payload.extensions ?? undefined,
    }),
  });
  const response = await handler.handleRequest(request, { live: state.origin });
  const type = response.headers.get('content-type') ?? '';
  if (response.body !== null && type.startsWith('text/event-stream')) {
    return endingAtReturn(response.body, abort);
  }
  const text = await response.text();
  try {
    return JSON.parse(text) as ExecutionResult;
  } catch {
    return { errors: [{ message: `Unexpected response (HTTP ${response.status})` }] } as never;
  }
}

/**
 * The results of the handler's event stream, ended at once when graphql-ws returns the iterator
 * (the client completed the operation, or left). The stream itself is cancelled, not only through
 * its reader: Yoga's stream is a Node Readable behind the web API, whose reader's cancel waits
 * behind the read under way, which only the next keep-alive (12 s away) would end; until then
 * the subscription would hold its place on the gauge, its caps and its hub. That read then ends
 * as the end of the results.
 */
function endingAtReturn(
  body: ReadableStream<Uint8Array>,
  abort: AbortController,
): AsyncIterableIterator<ExecutionResult> {
  return readServerSentEvents(body, () => {
    abort.abort();
    // A web stream refuses while its reader holds it; the reader's own cancel ends that one.
    body.cancel().catch(() => {});
  });
}
