import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { errorCode } from './messages.js';
import type { ConfigSources } from './secrets.js';

/**
 * The `server` section: where to listen, the request limits and timeouts, the shutdown drain,
 * the profile and what follows from it. Every default is the schema's.
 */

const limitsSchema = z.strictObject({
  /** Deepest selection allowed; default 12. */
  maxDepth: z.number().int().min(1).max(100).default(12),
  /** Most aliases in one operation; default 30. */
  maxAliases: z.number().int().min(0).max(1000).default(30),
  /** Most tokens in one document; default 2000. */
  maxTokens: z.number().int().min(10).max(100_000).default(2000),
  /** Highest query cost (graphql-armor's cost model); default 5000. */
  maxCost: z.number().int().min(1).max(1_000_000).default(5000),
  /** Most directives in one operation; default 20. */
  maxDirectives: z.number().int().min(0).max(1000).default(20),
  /**
   * Most items in any list a request passes (variables and literals: `currencies`,
   * `providerIds`, entity representations); default 500. The token limit does not see variables.
   */
  maxListItems: z.number().int().min(1).max(100_000).default(500),
});
export type QueryLimits = z.infer<typeof limitsSchema>;

/** pino's levels, for `logLevel` and LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The `server` section as the file gives it; what it leaves out is its default. */
export const serverSchema = z
  .strictObject({
    /** Default 127.0.0.1; the environment variable HOST overrides it. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Default 4000; the environment variable PORT overrides it. */
    port: z.number().int().min(0).max(65_535).default(4000),
    /** Default "production" when NODE_ENV is production, else "development". */
    profile: z.enum(['development', 'production']).optional(),
    /** GraphiQL on GET /graphql; default on, except in the production profile. */
    graphiql: z.boolean().optional(),
    /** Schema introspection; default on, except in the production profile. */
    introspection: z.boolean().optional(),
    /** Deadline of a whole GraphQL request; default 15 000. */
    requestTimeoutMs: z.number().int().min(1).max(600_000).default(15_000),
    /** Query limits enforced before execution; each has its default. */
    limits: limitsSchema.prefault({}),
    /** Largest request body accepted (HTTP 413 beyond); default 1 MiB. */
    maxRequestBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(1024 * 1024),
    /** Browsers on these origins may call the API (CORS); default none: CORS off. */
    cors: z
      .strictObject({
        origins: z.array(
          z.string().regex(/^https?:\/\/[^/\s]+$/, {
            error: 'expected an origin such as "https://app.example", without a path',
          }),
        ),
        /** Allow cookies and credentials on cross-origin calls; default false. */
        credentials: z.boolean().default(false),
      })
      .optional(),
    /**
     * Accept only these operations, by the SHA-256 of their text: a JSON manifest mapping each
     * hash to its document (`npm run schema` writes schema/operations/manifest.json). Default off.
     */
    trustedDocuments: z
      .strictObject({ manifest: z.strictObject({ file: z.string().min(1) }) })
      .optional(),
    /**
     * Serve without caller authentication on a host other than loopback; default false, and the
     * server refuses to start so.
     */
    allowAnonymous: z.boolean().default(false),
    /** Lines below this level are not logged; default "info" (LOG_LEVEL overrides it). */
    logLevel: z.enum(LOG_LEVELS).default('info'),
    /**
     * A client must send a request's headers within this; at most `receiveTimeoutMs`. Default
     * 10 000 or `receiveTimeoutMs`, whichever is shorter (Node: 60 000).
     */
    headersTimeoutMs: z.number().int().min(100).max(600_000).optional(),
    /**
     * A client must send a whole request, headers and body, within this (HTTP 408 and the
     * connection closed after it); default 30 000 (Node: 300 000).
     */
    receiveTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    /** An idle keep-alive connection is closed after this; default 5000. */
    keepAliveTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
    /** Open client connections at most; more are refused at once. Default 1000. */
    maxConnections: z.number().int().min(1).max(1_000_000).default(1000),
    /**
     * On SIGTERM, keep accepting for this long with /readyz answering 503, so a load balancer
     * stops sending before the listener closes; default 0.
     */
    shutdownDelayMs: z.number().int().min(0).max(600_000).default(0),
    /**
     * On SIGTERM, requests under way get this long to finish; then the remaining connections are
     * closed and the process exits. Default 10 000.
     */
    drainTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
    /** Caps on live subscriptions (SSE and WebSocket); each has its default. */
    subscriptions: z
      .strictObject({
        /** Subscriptions at once on one connection (a WebSocket); default 100. */
        maxPerConnection: z.number().int().min(1).max(100_000).default(100),
        /** Subscriptions at once of one caller (credential; address without auth); default 1000. */
        maxPerCaller: z.number().int().min(1).max(1_000_000).default(1000),
        /** Events waiting for one subscriber; one more disconnects it as not reading. Default 1000. */
        maxBufferedEvents: z.number().int().min(1).max(1_000_000).default(1000),
      })
      .prefault({}),
    /** GET /metrics in the Prometheus text format; each setting has its default. */
    metrics: z
      .strictObject({
        /** Serve GET /metrics; default true. Off: 404, and nothing is counted. */
        enabled: z.boolean().default(true),
        /** Serve /metrics on this port only, not on the main port; default: on the main port. */
        port: z.number().int().min(0).max(65_535).optional(),
        /** Where the metrics port listens; only with `port`. Default: the server's `host`. */
        host: z.string().min(1).optional(),
        /** On the main port, answer clients other than loopback too; default false (403). */
        allowRemote: z.boolean().default(false),
        /**
         * Label provider metrics with `tenant`, for every tenant; default false: the metrics
         * show the default tenant's (the top-level `providers`) only, without the label.
         */
        tenantLabel: z.boolean().default(false),
      })
      .prefault({}),
  })
  // The headers are part of the request: Node refuses a headers timeout longer than the whole.
  .refine((server) => (server.headersTimeoutMs ?? 0) <= server.receiveTimeoutMs, {
    path: ['headersTimeoutMs'],
    error: (issue) => {
      const server = issue.input as { headersTimeoutMs: number; receiveTimeoutMs: number };
      return `expected at most server.receiveTimeoutMs (${server.receiveTimeoutMs}), received ${server.headersTimeoutMs}`;
    },
    // Not when either timeout is wrong itself: that problem is reported alone.
    when: (payload) =>
      !payload.issues.some(
        (issue) => issue.path?.[0] === 'headersTimeoutMs' || issue.path?.[0] === 'receiveTimeoutMs',
      ),
  })
  // Left out, it is no longer than the whole request's: a setting the file never named must not
  // refuse the start.
  .transform((server) => ({
    ...server,
    headersTimeoutMs: server.headersTimeoutMs ?? Math.min(10_000, server.receiveTimeoutMs),
  }));
type ParsedServerConfig = z.output<typeof serverSchema>;

/** The server's settings, validated, with the profile's choices and the manifest's documents. */
export interface ServerConfig
  extends Omit<
    ParsedServerConfig,
    'profile' | 'graphiql' | 'introspection' | 'cors' | 'trustedDocuments'
  > {
  profile: NonNullable<ParsedServerConfig['profile']>;
  graphiql: boolean;
  introspection: boolean;
  cors: ParsedServerConfig['cors'] | undefined;
  /** Hash to document, when only trusted documents are accepted. */
  trustedDocuments: ReadonlyMap<string, string> | undefined;
}

/** The profile from the file or NODE_ENV, and GraphiQL and introspection from the profile. */
export function resolveServer(
  server: ParsedServerConfig,
  sources: ConfigSources,
  problems: string[],
): ServerConfig {
  const { env } = sources;
  const profile = server.profile ?? (env.NODE_ENV === 'production' ? 'production' : 'development');
  const development = profile === 'development';
  let logLevel = server.logLevel;
  if (env.LOG_LEVEL) {
    if ((LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL)) {
      logLevel = env.LOG_LEVEL as ServerConfig['logLevel'];
    } else {
      // Not echoed: a value in the wrong variable may be a secret.
      problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}`);
    }
  }
  let trustedDocuments: ServerConfig['trustedDocuments'];
  if (server.trustedDocuments !== undefined) {
    const file = resolve(sources.baseDir, server.trustedDocuments.manifest.file);
    try {
      trustedDocuments = readTrustedDocuments(file);
    } catch (error) {
      problems.push(`server.trustedDocuments.manifest.file: ${(error as Error).message}`);
    }
  }
  const { metrics } = server;
  if (metrics.host !== undefined && metrics.port === undefined) {
    problems.push(
      'server.metrics.host: expected only with server.metrics.port (on the main port, metrics are served where the server listens)',
    );
  }
  // Every tenant's provider ids would be listed to anyone who can reach the main port.
  if (metrics.tenantLabel && metrics.allowRemote && metrics.port === undefined) {
    problems.push(
      "server.metrics.tenantLabel: refusing to show every tenant's providers to remote clients of the main port (allowRemote); serve metrics on a port of their own (server.metrics.port) instead",
    );
  }
  return {
    ...server,
    profile,
    graphiql: server.graphiql ?? development,
    introspection: server.introspection ?? development,
    cors: server.cors,
    trustedDocuments,
    logLevel,
  };
}

/** A trusted-documents manifest: `{ "<sha256 hex of the document>": "<document>" }`. */
function readTrustedDocuments(file: string): Map<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const code = errorCode(error);
    throw new Error(
      code === 'unreadable' ? `file ${file} is not JSON` : `cannot read file ${file} (${code})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`file ${file} is not a manifest: expected { "<sha256>": "<document>" }`);
  }
  const documents = new Map<string, string>();
  for (const [hash, document] of Object.entries(value)) {
    if (!/^[0-9a-f]{64}$/.test(hash) || typeof document !== 'string') {
      throw new Error(`file ${file} is not a manifest: expected { "<sha256>": "<document>" }`);
    }
    documents.set(hash, document);
  }
  return documents;
}
