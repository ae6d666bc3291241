import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLSchema,
  getOperationAST,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { YogaServerInstance } from 'graphql-yoga';
import { createBalanceLoader } from '../balance-loader.js';
import type { RequestContext } from '../context.js';
import { currencyArgumentErrors } from '../graphql/use-currency-arguments.js';
import { oversizedListInVariables } from '../graphql/use-list-limits.js';
import { loggableOperationName } from '../graphql/use-request-log.js';
import type { Logger } from '../logger.js';
import type { BalanceMetrics } from '../metrics/registry.js';
import type { AppRuntime, TenantRuntime } from '../tenants.js';
import type { LiveOrigin, LiveRequest, LiveService } from './service.js';
import { callerOf } from './websocket.js';

/**
 * Subscriptions over Server-Sent Events without Yoga's per-request objects.
 *
 * Yoga serves an SSE subscription through a fetch Request, a Response whose body is a
 * ReadableStream wrapping a Node Readable piped into the ServerResponse, envelop's and
 * graphql-jit's iterator wrappers and a ping timer per stream: about 15 KB of heap per open
 * subscription, most of what a subscriber costs. Here, once the subscription has started, a stream
 * holds only its ServerResponse, its context and its event queue: each event is executed by the
 * operation's compiled query (shared by every stream of the same document) and written as the same
 * `event: next` frame Yoga writes; one timer pings every stream.
 *
 * Only a request this path is sure to answer as Yoga would is taken: a POST of a JSON body asking
 * for text/event-stream, a subscription that parses and validates through Yoga's own parse and
 * validate (so every limit and rule applies), whose variables pass the list and currency checks
 * and whose source stream starts. Anything else, including every error, is handed to Yoga with
 * the body already read, and Yoga answers it in its own words, status and log line.
 */
export interface SseSubscriptionsOptions {
  yoga: YogaServerInstance<Record<string, unknown>, RequestContext>;
  live: LiveService;
  runtime: AppRuntime;
  /** The tenant of an authenticated request (the server authenticates before the body is read). */
  tenantOf(req: IncomingMessage): string | undefined;
  requestTimeoutMs: number;
  /** server.limits.maxListItems. */
  maxListItems: number;
  /** The server's error masking, applied to an event's errors as Yoga applies it. */
  maskError(error: unknown, message: string): Error;
  log?: Logger | undefined;
  /** The app's metrics: a started subscription is a GraphQL request answered 200. */
  metrics?: BalanceMetrics | undefined;
  /** Between pings (`:` comment frames); default 12 000 ms as Yoga's, 300 ms under NODE_ENV=test. */
  pingIntervalMs?: number;
}

export interface SseSubscriptions {
  /** Whether a request may be a subscription this path serves (then call `handle`). */
  accepts(req: IncomingMessage): boolean;
  /**
   * Reads its body (at most `limit` bytes: `tooLarge` past them), then serves it or hands it to
   * Yoga.
   */
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
    tooLarge: () => void,
  ): Promise<void>;
  /** Streams open now. */
  open(): number;
}

/** What Yoga's SSE response says in its headers. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'content-encoding': 'none',
};
/** The same with `connection: keep-alive`, made once rather than spread per stream. */
const SSE_HEADERS_KEEP_ALIVE = { ...SSE_HEADERS, connection: 'keep-alive' };

/**
 * A stream's context, as the request context Yoga builds but for its loaders, made on first use
 * (a subscription's events never read through them). A class: an object literal with a getter is
 * kept as a dictionary, several hundred bytes more per stream.
 */
class StreamContext {
  #loaders: RequestContext['loaders'] | undefined;
  constructor(
    readonly tenant: TenantRuntime,
    readonly deadlineAt: number,
    readonly live: LiveRequest,
  ) {}
  get loaders(): RequestContext['loaders'] {
    this.#loaders ??= { balances: createBalanceLoader(this.tenant, this.deadlineAt) };
    return this.#loaders;
  }
}

export function createSseSubscriptions(options: SseSubscriptionsOptions): SseSubscriptions {
  const { yoga, live, log } = options;
  const pingIntervalMs = options.pingIntervalMs ?? (process.env.NODE_ENV === 'test' ? 300 : 12_000);
  /** Compiled once per document (Yoga's parse cache hands back the same one for the same text). */
  const compiled = new WeakMap<DocumentNode, Map<string | null, CompiledQuery>>();
  const streams = new Set<ServerResponse>();
  let pinger: NodeJS.Timeout | undefined;

  function ping(): void {
    for (const res of streams) {
      // As Yoga's: no ping into a stream the client is not reading.
      if (!res.writableNeedDrain) res.write(':\n\n');
    }
  }

  function compiledQuery(
    schema: GraphQLSchema,
    document: DocumentNode,
    operationName: string | null,
  ): CompiledQuery | undefined {
    let byName = compiled.get(document);
    if (byName === undefined) {
      byName = new Map();
      compiled.set(document, byName);
    }
    let query = byName.get(operationName);
    if (query === undefined) {
      const result = compileQuery(schema, document, operationName ?? undefined);
      if (!isCompiledQuery(result)) return undefined;
      query = result;
      byName.set(operationName, query);
    }
    return query;
  }

  function contextOf(req: IncomingMessage, tenantId: string): RequestContext {
    const tenant = options.runtime.tenants.get(tenantId);
    if (tenant === undefined) throw new Error(`unknown tenant "${tenantId}"`);
    const origin: LiveOrigin = {
      caller: callerOf(req.headers.authorization, req),
      connection: req.socket,
      // Reset, not closed: what the kernel still holds for a client that stopped reading is dropped.
      disconnect: () => req.socket.resetAndDestroy(),
    };
    return new StreamContext(
      tenant,
      performance.now() + options.requestTimeoutMs,
      live.request(origin),
    ) as RequestContext;
  }

  /** The event as Yoga writes it: its masked errors without their internal extensions. */
  function frame(result: ExecutionResult, query: CompiledQuery): string {
    if (result.errors === undefined || result.errors.length === 0) {
      return `event: next\ndata: ${query.stringify(result)}\n\n`;
    }
    const errors = result.errors.map((error) => {
      const masked = options.maskError(error, 'Unexpected error.') as GraphQLError;
      const json = (typeof masked.toJSON === 'function' ? masked.toJSON() : masked) as {
        extensions?: Record<string, unknown>;
      };
      const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions ?? {};
      return {
        ...json,
        extensions: Object.keys(extensions).length > 0 ? extensions : undefined,
      };
    });
    return `event: next\ndata: ${JSON.stringify({ ...result, errors })}\n\n`;
  }

  async function run(
    req: IncomingMessage,
    res: ServerResponse,
    iterator: AsyncIterator<unknown>,
    query: CompiledQuery,
    context: RequestContext,
    variables: Record<string, unknown> | undefined,
  ): Promise<void> {
    let closed = false;
    let resume: (() => void) | undefined;
    const onClose = () => {
      closed = true;
      resume?.();
      void iterator.return?.();
    };
    res.once('close', onClose);
    const socket = req.socket;
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    // The drain has already asked for the connection to close.
    res.writeHead(200, res.hasHeader('connection') ? SSE_HEADERS : SSE_HEADERS_KEEP_ALIVE);
    // As Yoga: a ping first, because some browsers wait for a body before they show a response.
    res.write(':\n\n');
    streams.add(res);
    pinger ??= setInterval(ping, pingIntervalMs).unref();
    try {
      for (;;) {
        const step = await iterator.next();
        if (step.done === true || closed) break;
        const result = await query.query(step.value, context, variables);
        if (closed) break;
        // A client that is not reading holds the stream back: its events wait in its queue, which
        // disconnects it past its bound, as Yoga's stream does.
        if (!res.write(frame(result, query))) {
          await new Promise<void>((resolve) => {
            resume = resolve;
            res.once('drain', resolve);
          });
          res.off('drain', resume as () => void);
          resume = undefined;
          if (closed) break;
        }
      }
      if (!closed) res.end('event: complete\ndata:\n\n');
    } catch {
      // As when Yoga's stream errors: the connection is cut.
      res.destroy();
    } finally {
      res.off('close', onClose);
      streams.delete(res);
      if (streams.size === 0 && pinger !== undefined) {
        clearInterval(pinger);
        pinger = undefined;
      }
    }
  }

  /** The request log line Yoga writes for a subscription it starts, and its request metrics. */
  function logStarted(started: number, operationName: unknown, named: string | undefined): void {
    options.metrics?.countRequest(
      loggableOperationName(named),
      200,
      (performance.now() - started) / 1000,
    );
    if (log === undefined || !log.isLevelEnabled('info')) return;
    log.info(
      {
        method: 'POST',
        path: '/graphql',
        status: 200,
        tenantId: null,
        operationName: loggableOperationName(operationName) ?? null,
        errors: [],
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      'graphql request',
    );
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
    tooLarge: () => void,
  ): Promise<void> {
    const started = performance.now();
    const body = await readBody(req, limit);
    if (body === undefined) return tooLarge();
    const toYoga = () => {
      void yoga(Object.assign(req, { body }), res);
    };
    let params: Record<string, unknown>;
    try {
      params = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    } catch {
      return toYoga();
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return toYoga();
    const { query: source, variables, operationName, extensions } = params;
    if (typeof source !== 'string') return toYoga();
    if (
      operationName !== undefined &&
      operationName !== null &&
      typeof operationName !== 'string'
    ) {
      return toYoga();
    }
    if (
      variables !== undefined &&
      variables !== null &&
      (typeof variables !== 'object' || Array.isArray(variables))
    ) {
      return toYoga();
    }
    if (extensions !== undefined && extensions !== null) return toYoga();
    if (oversizedListInVariables(variables, options.maxListItems) !== undefined) return toYoga();
    const tenantId = options.tenantOf(req);
    if (tenantId === undefined) return toYoga();

    let started$: {
      iterator: AsyncIterator<unknown>;
      query: CompiledQuery;
      context: RequestContext;
      /** The operation's name in the document, as the metrics label it. */
      operationName: string | undefined;
    };
    try {
      // Yoga's own parse and validate: its caches, and every rule and limit its plugins add.
      const { parse, validate, schema } = yoga.getEnveloped({ req, res });
      const document = parse(source) as DocumentNode;
      if (validate(schema, document).length > 0) return toYoga();
      const name = (operationName as string | null | undefined) ?? null;
      const operation = getOperationAST(document, name);
      if (operation?.operation !== 'subscription') return toYoga();
      const vars = (variables ?? undefined) as Record<string, unknown> | undefined;
      if (currencyArgumentErrors(schema, document, name, vars).length > 0) return toYoga();
      const query = compiledQuery(schema, document, name);
      if (query === undefined) return toYoga();
      const context = contextOf(req, tenantId);
      const stream = await createSourceEventStream({
        schema,
        document,
        operationName: name,
        variableValues: vars,
        contextValue: context,
      });
      // Refused (the caps, an unknown provider, shutting down): Yoga refuses it again, in its words.
      if (!(Symbol.asyncIterator in stream)) return toYoga();
      started$ = {
        iterator: stream[Symbol.asyncIterator](),
        query,
        context,
        operationName: operation.name?.value,
      };
    } catch {
      return toYoga();
    }
    const { iterator, query, context, operationName: named } = started$;
    // The client may have gone while the subscription started.
    if (res.destroyed || req.socket.destroyed) {
      await iterator.return?.();
      return;
    }
    logStarted(started, operationName, named);
    // Not awaited: this frame (the body, the parameters) is let go while the stream runs.
    void run(req, res, iterator, query, context, (variables ?? undefined) as never);
  }

  /**
   * The body, read whole unless it passes `limit` bytes (then undefined); with listeners that go
   * when it ends, where an async iterator over the request would keep its own until the response
   * closes.
   */
  function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          done();
          req.resume();
          resolve(undefined);
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        done();
        resolve(Buffer.concat(chunks, size));
      };
      const onError = (error: Error) => {
        done();
        reject(error);
      };
      const done = () => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
      };
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
    });
  }

  return {
    accepts(req) {
      return (
        req.method === 'POST' &&
        (req.url ?? '').split('?')[0] === '/graphql' &&
        (req.headers.accept ?? '').includes('text/event-stream') &&
        (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')
      );
    },
    handle,
    open: () => streams.size,
  };
}
