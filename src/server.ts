import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { GraphQLError } from 'graphql';
import {
  createYoga,
  type GraphiQLOptions,
  maskError,
  type Plugin,
  type YogaServerInstance,
} from 'graphql-yoga';
import { type CallerAuthenticator, createCallerAuthenticator } from './caller-auth.js';
import type { ServerConfig } from './config/server.js';
import { DEFAULT_TENANT_ID } from './config/tenants.js';
import { createRefusalLog } from './connection-refusals.js';
import { createRequestContext, type RequestContext } from './context.js';
import { schema } from './graphql/index.js';
import {
  earlyCallerAuthOf,
  NO_CREDENTIALS,
  rememberCallerAuth,
  unauthenticatedHeaders,
  useCallerAuth,
} from './graphql/use-caller-auth.js';
import { useCurrencyArguments } from './graphql/use-currency-arguments.js';
import { useFederationSdl } from './graphql/use-federation-sdl.js';
import { useKnownOperationTypes } from './graphql/use-known-operation-types.js';
import { requestSpanOf, useObservedRequests } from './graphql/use-observed-requests.js';
import { useQueryLimits } from './graphql/use-query-limits.js';
import { useRejectedQueryStatus } from './graphql/use-rejected-query-status.js';
import { useRequestLog } from './graphql/use-request-log.js';
import { useSubscriptionArguments } from './graphql/use-subscription-arguments.js';
import { useTrustedDocuments } from './graphql/use-trusted-documents.js';
import { createLiveHub, type LiveHub } from './live/hub.js';
import { createLiveService, type LiveOrigin, type LiveService } from './live/service.js';
import { createSseSubscriptions } from './live/sse-subscriptions.js';
import { attachWebSocketTransport, callerOf } from './live/websocket.js';
import { describeUnexpectedError, type Logger } from './logger.js';
import {
  answerMetrics,
  type MetricsServer,
  noMetricsHere,
  refuseRemoteScrape,
  startMetricsServer,
} from './metrics/endpoint.js';
import { isLoopbackHost } from './net.js';
import { createHttpDrain, type DrainOutcome, type DrainTimers } from './shutdown.js';
import type { AppRuntime } from './tenants.js';
import { isUpstreamError } from './upstream/errors.js';

/** GraphiQL's first tab: the dashboard operation kept in schema/operations/. */
const DASHBOARD_QUERY_FILE = new URL('../schema/operations/dashboard.graphql', import.meta.url);

export type BalanceYoga = YogaServerInstance<Record<string, unknown>, RequestContext>;

export interface CreateYogaOptions {
  runtime: AppRuntime;
  /** Who may call, and as which tenant; default: everyone, as the default tenant. */
  authenticator?: CallerAuthenticator;
  /** The server section of the configuration: profile, GraphiQL, introspection, limits. */
  server: Pick<
    ServerConfig,
    | 'profile'
    | 'graphiql'
    | 'introspection'
    | 'limits'
    | 'requestTimeoutMs'
    | 'maxRequestBytes'
    | 'cors'
    | 'trustedDocuments'
  >;
  log?: Logger | undefined;
  /** Subscriptions' hub and caps; without it a subscription is refused with a message. */
  live?: LiveService | undefined;
}

/**
 * Who a subscription belongs to: the WebSocket transport says (its `live` server context);
 * over HTTP (SSE) it is the request's credential or address and its socket.
 */
function liveOriginOf(initial: Record<string, unknown>, request: Request): LiveOrigin {
  const given = initial.live as LiveOrigin | undefined;
  if (given !== undefined) return given;
  const req = initial.req as IncomingMessage | undefined;
  if (req === undefined) {
    return { caller: 'in-process', connection: request, disconnect: () => {} };
  }
  return {
    caller: callerOf(req.headers.authorization, req),
    connection: req.socket,
    // Reset, not closed: what the kernel still holds for a client that stopped reading is dropped.
    disconnect: () => req.socket.resetAndDestroy(),
  };
}

/** The GraphQL handler; tests may call its `fetch` in-process. */
export function createBalanceYoga(options: CreateYogaOptions): BalanceYoga {
  const { server, log } = options;
  const authenticator = options.authenticator ?? createCallerAuthenticator(undefined, new Set());
  const callerAuth = useCallerAuth(authenticator);
  let graphiqlPage: string | undefined;
  const { metrics, tracing } = options.runtime.instrumentation;
  const plugins: Plugin[] = [
    // Outermost: the request's server span holds everything after it, refusals included.
    ...(metrics === undefined && tracing === undefined
      ? []
      : [useObservedRequests({ metrics, tracing })]),
    // First, so that even a request refused before parsing gets its log line with a duration.
    ...(log === undefined ? [] : [useRequestLog(log)]),
    callerAuth.plugin,
    // Checked before anything runs; field suggestions are hidden in production.
    useQueryLimits(server.limits, { hideFieldSuggestions: server.profile === 'production' }),
    // A browser may not send a "simple" request (a GET, or a form-encoded or text/plain POST)
    // without this header; application/json POSTs from GraphiQL and gateways need nothing.
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] }),
    // A subscription or mutation, which the schema has no type for, is a validation error.
    useKnownOperationTypes(),
    useRejectedQueryStatus(),
    useCurrencyArguments(),
    useSubscriptionArguments(),
    useGraphQlJit() as Plugin,
    ...(server.introspection ? [] : [useDisableIntrospection() as Plugin]),
    // The subgraph SDL maps the schema as introspection does: only federation gateways may read it
    // where introspection is off.
    useFederationSdl({
      introspection: server.introspection,
      isFederationCaller: (request) => callerAuth.callerOf(request)?.federation === true,
    }),
    ...(server.trustedDocuments === undefined
      ? []
      : [useTrustedDocuments(server.trustedDocuments)]),
  ];

  return createYoga<Record<string, unknown>, RequestContext>({
    schema,
    context: (initial) => {
      const { request } = initial;
      const tenantId =
        callerAuth.tenantOf(request) ?? (authenticator.required ? undefined : DEFAULT_TENANT_ID);
      // Only an authenticated request reaches here when authentication is on (the caller-auth
      // plugin refuses the rest before parsing, and Yoga every OPTIONS request); should a path
      // ever skip it, the refusal is still a 401 with its challenge.
      if (tenantId === undefined) {
        throw new GraphQLError(`Unauthenticated: ${NO_CREDENTIALS.reason}`, {
          extensions: {
            code: 'UNAUTHENTICATED',
            http: { status: 401, headers: unauthenticatedHeaders(NO_CREDENTIALS) },
          },
        });
      }
      const context = createRequestContext(
        options.runtime,
        tenantId,
        server.requestTimeoutMs,
        requestSpanOf(request),
      );
      const { live } = options;
      // Subscriptions run over SSE or the WebSocket transport; any other request gets a message
      // saying so instead of a stream it cannot read.
      const streams =
        (initial as Record<string, unknown>).live !== undefined ||
        (request.headers.get('accept') ?? '').includes('text/event-stream');
      if (live === undefined || !streams) return context;
      return Object.assign(context, {
        live: live.request(liveOriginOf(initial as Record<string, unknown>, initial.request)),
      });
    },
    // Subscriptions from GraphiQL go over SSE by POST, as its queries do: a GET would need the
    // CSRF header, which GraphiQL's SSE client does not send.
    graphiql: server.graphiql ? { title: 'balance-api', method: 'POST' } : false,
    // GraphiQL's scripts and styles are served inline from the package, never from a CDN. The
    // package is 9 MB of JavaScript, so it and the default query are loaded on the first visit
    // (never where GraphiQL is off), and the page is rendered once.
    renderGraphiQL: async (graphiqlOptions) => {
      graphiqlPage ??= await renderGraphiQLPage(graphiqlOptions);
      return graphiqlPage;
    },
    plugins,
    landingPage: false,
    // Off unless origins are configured: browsers elsewhere may not call the API.
    cors:
      server.cors === undefined
        ? false
        : {
            origin: server.cors.origins,
            credentials: server.cors.credentials,
            methods: ['GET', 'POST', 'OPTIONS'],
            allowedHeaders: ['content-type', 'authorization', 'x-graphql-yoga-csrf'],
          },
    logging: false,
    batching: false,
    multipart: false,
    // Enforced in the Node HTTP layer (startBalanceServer), where it costs next to nothing.
    maxRequestBodySize: false,
    // Never a stack trace or an internal message to a client, whatever NODE_ENV says: anything
    // that is not a deliberate GraphQLError becomes "Unexpected error." and is logged here.
    maskedErrors: { isDev: false, maskError: maskErrorsOf(log) },
  });
}

/**
 * The error masking of every result: anything that is not a deliberate GraphQLError becomes
 * "Unexpected error." and is logged.
 */
function maskErrorsOf(log: Logger | undefined) {
  return (error: unknown, message: string): Error => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (
      original !== undefined &&
      !(original instanceof GraphQLError) &&
      !isUpstreamError(original)
    ) {
      log?.error(describeUnexpectedError(original), 'unexpected error');
    }
    return maskError(error, message, false);
  };
}

/** GraphiQL's page, opening on the dashboard query. */
async function renderGraphiQLPage(options: GraphiQLOptions): Promise<string> {
  const [{ renderGraphiQL }, defaultQuery] = await Promise.all([
    import('@graphql-yoga/render-graphiql'),
    readFile(DASHBOARD_QUERY_FILE, 'utf8'),
  ]);
  return renderGraphiQL({ ...options, defaultQuery });
}

export interface BalanceServer {
  server: Server;
  yoga: BalanceYoga;
  /** `http://host:port`, once listening. */
  origin: string;
  /** `http://host:port` of the metrics port (`server.metrics.port`); undefined without one. */
  metricsOrigin: string | undefined;
  /** Subscriptions (SSE and WebSocket) and their pollers. */
  live: LiveService;
  /**
   * The shutdown sequence: /readyz answers 503 at once and every response closes its connection;
   * the listener keeps accepting until `shutdownDelayMs` has passed, then closes with the idle
   * connections while requests in flight finish; at `drainTimeoutMs` any connection left is
   * destroyed. Resolves when every connection is closed; later calls get the same promise.
   */
  shutdown(): Promise<DrainOutcome>;
  /** The same as `shutdown()`. */
  close(): Promise<void>;
}

/** HTTP 413 in the GraphQL error shape. */
function tooLarge(res: ServerResponse, limit: number): void {
  res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
  res.end(
    JSON.stringify({
      errors: [
        {
          message: `Request body is larger than ${limit} bytes`,
          extensions: { code: 'PAYLOAD_TOO_LARGE' },
        },
      ],
    }),
  );
}

/** A body of unknown length, read whole unless it passes `limit` bytes (then undefined). */
async function readCounted(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

export interface StartServerOptions extends CreateYogaOptions {
  server: ServerConfig;
  /**
   * The timers of the shutdown sequence and of the refused-connection log; default the real ones
   * (tests pass timers they fire).
   */
  timers?: DrainTimers;
  /** The subscriptions' pollers; default a hub on the real timers, 30 s per provider. */
  liveHub?: LiveHub;
}

/**
 * Node's HTTP timeouts from the configuration. Node refuses a headers timeout longer than the
 * request timeout, and checks both only every `connectionsCheckingInterval` (30 s by default), so
 * it is set to half the shorter one, at most a second, for a timeout to be enforced when it falls.
 */
function httpServerTimeouts(config: ServerConfig) {
  const requestTimeout = config.receiveTimeoutMs;
  const headersTimeout = Math.min(config.headersTimeoutMs, requestTimeout);
  return {
    requestTimeout,
    headersTimeout,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(1, Math.min(1000, Math.floor(headersTimeout / 2))),
  };
}

/**
 * What needs no credentials: the GraphiQL page (Yoga renders it for any GET that accepts HTML,
 * before caller authentication) and CORS preflights. /healthz and /readyz are answered earlier.
 */
function needsNoCredentials(req: IncomingMessage): boolean {
  return (
    req.method === 'OPTIONS' ||
    (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html'))
  );
}

/**
 * GraphQL at /graphql, GET /healthz while the process runs, GET /readyz once ready (503 before and
 * from the start of the shutdown sequence).
 */
export async function startBalanceServer(options: StartServerOptions): Promise<BalanceServer> {
  const config = options.server;
  const authenticator = options.authenticator ?? createCallerAuthenticator(undefined, new Set());
  const live = createLiveService(options.liveHub ?? createLiveHub(), config.subscriptions);
  const yoga = createBalanceYoga({ ...options, authenticator, live });
  const { log } = options;
  let ready = false;
  const { runtime } = options;
  const { metrics } = runtime.instrumentation;
  // Read at every scrape: a reload changes the providers, subscriptions come and go.
  runtime.instrumentation.watchProviders(function* () {
    for (const tenant of runtime.tenants.values()) yield* tenant.providers;
  });
  runtime.instrumentation.watchSubscriptions(() => live.active());
  const metricsConfig = config.metrics;
  /** Metrics on the main port: on, and not moved to a port of their own. */
  const metricsHere =
    metrics !== undefined && metricsConfig.enabled && metricsConfig.port === undefined
      ? metrics
      : undefined;
  // SSE subscriptions are served without Yoga's per-request objects once they have started;
  // anything else, and every refusal, is Yoga's. Trusted documents, CORS and tracing (the
  // request's server span) stay with Yoga.
  const sse =
    config.trustedDocuments === undefined && runtime.instrumentation.tracing === undefined
      ? createSseSubscriptions({
          yoga,
          live,
          runtime: options.runtime,
          tenantOf: (req) => {
            if (!authenticator.required) return DEFAULT_TENANT_ID;
            const result = earlyCallerAuthOf(req);
            return result?.ok === true ? result.tenantId : undefined;
          },
          requestTimeoutMs: config.requestTimeoutMs,
          maxListItems: config.limits.maxListItems,
          maskError: maskErrorsOf(log),
          log,
          metrics,
        })
      : undefined;

  // The body-size limit, enforced here rather than by Yoga, which would stream every body
  // through a TransformStream: a declared length is checked before anything is read, and a body
  // without one (chunked) is read here with a count and handed over whole. A client that asked
  // `Expect: 100-continue` is invited to send its body only here, once the request is accepted.
  const receive = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const limit = config.maxRequestBytes;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) return tooLarge(res, limit);
    if (expectsContinue) res.writeContinue();
    if (
      sse?.accepts(req) === true &&
      (config.cors === undefined || req.headers.origin === undefined)
    ) {
      sse.handle(req, res, limit, () => tooLarge(res, limit)).catch(() => res.destroy());
      return;
    }
    if (
      declared !== undefined ||
      req.method === 'GET' ||
      req.method === 'HEAD' ||
      req.method === 'OPTIONS'
    ) {
      void yoga(req, res);
      return;
    }
    void readCounted(req, limit).then(
      (body) => {
        if (body === undefined) return tooLarge(res, limit);
        void yoga(Object.assign(req, { body }), res);
      },
      () => res.destroy(),
    );
  };

  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const status =
        path === '/healthz' ? 'ok' : drain.draining ? 'draining' : ready ? 'ok' : 'starting';
      res.writeHead(status === 'ok' ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify({ status }));
      return;
    }
    // Before caller authentication: scrapers do not send it. Who may scrape is settled here.
    if (path === '/metrics') {
      if (metricsHere === undefined) noMetricsHere(res);
      else if (metricsConfig.allowRemote || isLoopbackHost(req.socket.remoteAddress ?? '')) {
        answerMetrics(req, res, metricsHere, log);
      } else refuseRemoteScrape(res);
      return;
    }
    if (!authenticator.required || needsNoCredentials(req)) {
      return receive(req, res, expectsContinue);
    }
    // The caller is authenticated from the headers, before a byte of the body is read: a stranger
    // cannot make the server hold a megabyte per connection. Yoga is handed the result, and answers
    // a refusal itself (the 401, its challenge, its log line) without reading the body, on a
    // connection that then closes.
    authenticator.authenticate(req.headers.authorization ?? null).then(
      (result) => {
        rememberCallerAuth(req, result);
        if (result.ok) return receive(req, res, expectsContinue);
        res.setHeader('connection', 'close');
        void yoga(req, res);
      },
      () => res.destroy(),
    );
  };

  const server = createServer(httpServerTimeouts(config), (req, res) => handle(req, res, false));
  // Node would say 100 Continue itself, before any check, inviting the body of a request that is
  // then refused: the handler says it once the caller is authenticated and the length accepted.
  server.on('checkContinue', (req, res) => handle(req, res, true));
  // More connections than this are closed as soon as they are accepted.
  server.maxConnections = config.maxConnections;
  const refusals = createRefusalLog(log, config.maxConnections, options.timers);
  server.on('drop', () => refusals.refused());
  server.once('close', () => refusals.flush());
  const drain = createHttpDrain(server, {
    shutdownDelayMs: config.shutdownDelayMs,
    drainTimeoutMs: config.drainTimeoutMs,
    timers: options.timers,
  });

  // graphql-transport-ws on the same port and path, through the same handler.
  const websockets = attachWebSocketTransport({
    server,
    path: '/graphql',
    authenticator,
    handler: yoga,
    maxPayload: config.maxRequestBytes,
    draining: () => drain.draining,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let metricsServer: MetricsServer | undefined;
  if (metrics !== undefined && metricsConfig.enabled && metricsConfig.port !== undefined) {
    try {
      metricsServer = await startMetricsServer({
        port: metricsConfig.port,
        host: metricsConfig.host ?? config.host,
        metrics,
        log,
      });
    } catch (error) {
      // The main port listens already: it must not outlive a start that failed.
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw error;
    }
  }
  // The schema was built at import and the configuration loaded before we got here.
  ready = true;
  // The drain ends every subscription at once: their streams would otherwise hold it until the
  // drain deadline. SSE responses then end as any other; WebSockets close with 1001.
  let stopped: Promise<DrainOutcome> | undefined;
  const shutdown = () => {
    stopped ??= (async () => {
      const drained = drain.drain();
      live.close();
      websockets.close();
      const outcome = await drained;
      // Scraped until the end of the drain, so the last figures are seen.
      await metricsServer?.close();
      return outcome;
    })();
    return stopped;
  };
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    yoga,
    origin: `http://${host}:${address.port}`,
    metricsOrigin: metricsServer?.origin,
    live,
    shutdown: () => shutdown(),
    close: async () => {
      await shutdown();
    },
  };
}
