import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseLossless } from 'lossless-json';
import { z } from 'zod';
import {
  type PROVIDER_KIND_DEFINITIONS,
  PROVIDER_KINDS,
  type ProviderKind,
  providerKindDefinition,
} from './providers/kinds.js';
import {
  ID_PATTERN,
  idSchema,
  type ProviderConfigSchema,
  type ResolvedCredentials,
  type ResolvedProviderConfig,
  type SecretReference,
} from './providers/provider-config.js';

export { PROVIDER_KINDS, type ProviderKind };

type Definitions = (typeof PROVIDER_KIND_DEFINITIONS)[number];

/** A provider as its kind's schema parsed it, secrets not yet resolved. */
type RawProviderConfig = Definitions extends infer D
  ? D extends { configSchema: infer S extends ProviderConfigSchema }
    ? z.infer<S>
    : never
  : never;

/** A provider's configuration with every secret resolved to its value, its credentials typed. */
export type ProviderConfig = Definitions extends infer D
  ? D extends { configSchema: infer S extends ProviderConfigSchema }
    ? ResolvedProviderConfig<S>
    : never
  : never;
export type ProviderConfigOf<K extends ProviderKind> = Extract<ProviderConfig, { kind: K }>;

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
const DEFAULT_LIMITS: QueryLimits = {
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 2000,
  maxCost: 5000,
  maxDirectives: 20,
  maxListItems: 500,
};

/** pino's levels, for `logLevel` and LOG_LEVEL. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const serverSchema = z
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
    /** Query limits enforced before execution. */
    limits: limitsSchema.default(DEFAULT_LIMITS),
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
     * Accept only these operations, by the SHA-256 of their text: a JSON manifest mapping each hash
     * to its document (`npm run schema` writes schema/operations/manifest.json). Default off.
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
    /** A client must send a request's headers within this; default 10 000 (Node: 60 000). */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
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
     * On SIGTERM, keep accepting for this long with /readyz answering 503, so a load balancer stops
     * sending before the listener closes; default 0.
     */
    shutdownDelayMs: z.number().int().min(0).max(600_000).default(0),
    /**
     * On SIGTERM, requests under way get this long to finish; then the remaining connections are
     * closed and the process exits. Default 10 000.
     */
    drainTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
  })
  // The headers are part of the request: Node refuses a headers timeout longer than the whole.
  .refine((server) => server.headersTimeoutMs <= server.receiveTimeoutMs, {
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
  });
type RawServerConfig = z.infer<typeof serverSchema>;

const DEFAULT_SERVER: RawServerConfig = {
  host: '127.0.0.1',
  port: 4000,
  requestTimeoutMs: 15_000,
  limits: DEFAULT_LIMITS,
  maxRequestBytes: 1024 * 1024,
  allowAnonymous: false,
  logLevel: 'info',
  headersTimeoutMs: 10_000,
  receiveTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 1000,
  shutdownDelayMs: 0,
  drainTimeoutMs: 10_000,
};

const authSchema = z.strictObject({
  /** Callers that present an API key; only its SHA-256 is configured. */
  apiKeys: z
    .array(
      z.strictObject({
        tenant: idSchema,
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, {
          error:
            'expected 64 hex digits: the SHA-256 of the key (balance-api hash-api-key prints it)',
        }),
        /** This caller is a federation gateway: it may read `_service { sdl }`. Default false. */
        federation: z.boolean().default(false),
      }),
    )
    .default([]),
  /** Callers that present a JWT from an identity provider. */
  jwt: z
    .strictObject({
      jwks: z.union(
        [
          z.strictObject({ file: z.string().min(1) }),
          z.strictObject({ url: z.url({ protocol: /^https?$/ }) }),
        ],
        { error: 'expected { "file": PATH } or { "url": "https://..." }' },
      ),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      /** The claim naming the caller's tenant; default "tenant". */
      tenantClaim: z.string().min(1).default('tenant'),
      /** Leeway for exp and nbf; default 30 s. */
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      /** How soon a token with an unknown key id may make the JWKS be read again; default 30 s. */
      jwksRefreshCooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
      /** A token must carry `exp`, at most this far ahead; default 86 400 (one day). */
      maxExpiresInSeconds: z.number().int().min(60).max(31_536_000).default(86_400),
    })
    .optional(),
});

const fileSchema = z.strictObject({
  server: serverSchema.default(DEFAULT_SERVER),
  /** Who may call; without it everyone is served the default tenant. */
  auth: authSchema.optional(),
  /** The providers of the tenant named "default". */
  providers: z.array(z.unknown()).optional(),
  tenants: z.array(z.strictObject({ id: idSchema, providers: z.array(z.unknown()) })).optional(),
});

/** Caller authentication, validated. */
export interface AuthConfig {
  apiKeys: { tenant: string; sha256: string; federation: boolean }[];
  jwt:
    | {
        /** A file (with the keys read at start) or a URL. */
        jwks: { file: string; keys: Record<string, unknown>[] } | { url: string };
        issuer: string;
        audience: string;
        tenantClaim: string;
        clockToleranceSeconds: number;
        jwksRefreshCooldownMs: number;
        maxExpiresInSeconds: number;
      }
    | undefined;
}

export interface ServerConfig {
  host: string;
  port: number;
  profile: 'development' | 'production';
  graphiql: boolean;
  introspection: boolean;
  requestTimeoutMs: number;
  limits: QueryLimits;
  maxRequestBytes: number;
  allowAnonymous: boolean;
  cors: { origins: string[]; credentials: boolean } | undefined;
  /** Hash to document, when only trusted documents are accepted. */
  trustedDocuments: ReadonlyMap<string, string> | undefined;
  logLevel: RawServerConfig['logLevel'];
  headersTimeoutMs: number;
  receiveTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  shutdownDelayMs: number;
  drainTimeoutMs: number;
}

export interface TenantConfig {
  id: string;
  providers: ProviderConfig[];
}

export interface AppConfig {
  server: ServerConfig;
  /** Undefined: no caller authentication, everyone gets the default tenant. */
  auth: AuthConfig | undefined;
  tenants: TenantConfig[];
}

/** The configuration is wrong; `problems` holds one line per problem, none echoing a secret. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}\n${problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** The tenant made of the file's top-level `providers`. */
export const DEFAULT_TENANT_ID = 'default';

export interface LoadConfigOptions {
  /** `--config FILE`; wins over BALANCE_API_CONFIG. */
  configPath?: string | undefined;
  /** `--port N`; wins over PORT and the file. */
  port?: number | undefined;
  /** `--host H`; wins over HOST and the file. */
  host?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * The configuration file named by `--config` or BALANCE_API_CONFIG, or undefined when neither is
 * given (the caller then runs the sandbox). Throws ConfigError listing every problem.
 */
export function loadConfigFromEnvironment(options: LoadConfigOptions): AppConfig | undefined {
  const env = options.env ?? process.env;
  const path = options.configPath ?? (env.BALANCE_API_CONFIG || undefined);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the configuration file (${errorCode(error)})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(path, [`the file is not valid JSON (${whereJsonBreaks(text)})`]);
  }
  const config = parseConfig(json, { source: path, env, baseDir: dirname(resolve(path)) });
  return applyServerOverrides(config, {
    env,
    port: options.port,
    host: options.host,
    source: path,
  });
}

/**
 * Where a JSON text stops being JSON, as a line and column. Only the place: the parsers' own
 * messages quote the text around it, which may be a secret typed without its quotes.
 */
function whereJsonBreaks(text: string): string {
  let position: number | undefined;
  try {
    parseLossless(text);
  } catch (error) {
    const match = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
    position = match === null ? undefined : Number(match[1]);
  }
  if (position === undefined) return 'unreadable';
  const before = text.slice(0, position).split('\n');
  return `unexpected text at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** PORT and HOST from the environment, then `--port` and `--host`, override the file's server section. */
export function applyServerOverrides(
  config: AppConfig,
  options: {
    /** Default process.env. */
    env?: NodeJS.ProcessEnv;
    /** `--port`; default none. */
    port?: number | undefined;
    /** `--host`; default none. */
    host?: string | undefined;
    /** Named in messages; default "environment". */
    source?: string;
  },
): AppConfig {
  const env = options.env ?? process.env;
  const server = { ...config.server };
  const problems: string[] = [];
  if (env.HOST) server.host = env.HOST;
  if (env.PORT) {
    const port = Number(env.PORT);
    if (/^\d+$/.test(env.PORT) && port <= 65_535) server.port = port;
    // Not echoed: a value in the wrong variable may be a secret.
    else problems.push('PORT: expected a port number from 0 to 65535');
  }
  if (options.port !== undefined) server.port = options.port;
  if (options.host !== undefined) server.host = options.host;
  if (problems.length > 0) throw new ConfigError(options.source ?? 'environment', problems);
  return { ...config, server };
}

export interface ParseConfigOptions {
  /** Named in messages: the file's path. */
  source: string;
  env: NodeJS.ProcessEnv;
  /** Relative `{ "file": ... }` secrets are read from here. */
  baseDir: string;
}

/** Validates a parsed configuration document and resolves its secrets. */
export function parseConfig(json: unknown, options: ParseConfigOptions): AppConfig {
  const problems: string[] = [];
  const top = fileSchema.safeParse(json);
  if (!top.success) problems.push(...top.error.issues.map((issue) => describeIssue(issue, json)));
  const document = (typeof json === 'object' && json !== null ? json : {}) as {
    providers?: unknown;
    tenants?: unknown;
  };
  // Providers are checked one by one, even when the top level has problems too, so that every
  // problem is reported at once.
  const tenants: TenantConfig[] = [];
  if (Array.isArray(document.providers)) {
    tenants.push({
      id: DEFAULT_TENANT_ID,
      providers: parseProviders(document.providers, '', options, problems),
    });
  }
  if (Array.isArray(document.tenants)) {
    document.tenants.forEach((tenant: unknown, index) => {
      const { id, providers } = (typeof tenant === 'object' && tenant !== null ? tenant : {}) as {
        id?: unknown;
        providers?: unknown;
      };
      // An id without the id syntax is reported by the schema, and never echoed.
      if (typeof id !== 'string' || !ID_PATTERN.test(id) || !Array.isArray(providers)) return;
      const label = `tenants[${index}] "${id}": `;
      if (tenants.some((other) => other.id === id)) {
        problems.push(
          id === DEFAULT_TENANT_ID && Array.isArray(document.providers)
            ? `${label}id: "default" is the tenant of the top-level providers already`
            : `${label}id: duplicate tenant id "${id}"`,
        );
        return;
      }
      tenants.push({ id, providers: parseProviders(providers, label, options, problems) });
    });
  }
  if (document.providers === undefined && document.tenants === undefined) {
    problems.push('providers: is required (or tenants, each with its providers)');
  }
  const auth = top.success ? resolveAuth(top.data.auth, tenants, options, problems) : undefined;
  if (problems.length > 0 || !top.success) throw new ConfigError(options.source, problems);
  if (
    auth === undefined &&
    tenants.length > 0 &&
    !tenants.some((t) => t.id === DEFAULT_TENANT_ID)
  ) {
    throw new ConfigError(options.source, [
      'auth: is required when there is no default tenant (top-level providers): without it no caller can be mapped to a tenant',
    ]);
  }
  const server = resolveServer(top.data.server, options, problems);
  if (problems.length > 0) throw new ConfigError(options.source, problems);
  return { server, auth, tenants };
}

/** One tenant's providers, each validated and its secrets resolved; ids unique in the tenant. */
function parseProviders(
  rawProviders: unknown[],
  prefix: string,
  options: ParseConfigOptions,
  problems: string[],
): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  const seen = new Map<string, number>();
  rawProviders.forEach((raw, index) => {
    const label = `${prefix}${providerLabel(raw, index)}`;
    const parsed = parseProvider(raw, label, problems);
    if (parsed === undefined) return;
    const first = seen.get(parsed.id);
    if (first !== undefined) {
      problems.push(
        `${label}: id: duplicate id "${parsed.id}", already used by providers[${first}]`,
      );
      return;
    }
    seen.set(parsed.id, index);
    const credentials = resolveCredentials(parsed.credentials, label, options, problems);
    if (credentials !== undefined) providers.push({ ...parsed, credentials } as ProviderConfig);
  });
  return providers;
}

function resolveAuth(
  auth: z.infer<typeof authSchema> | undefined,
  tenants: TenantConfig[],
  options: ParseConfigOptions,
  problems: string[],
): AuthConfig | undefined {
  if (auth === undefined) return undefined;
  if (auth.apiKeys.length === 0 && auth.jwt === undefined) {
    problems.push('auth: expected "apiKeys", "jwt" or both');
  }
  auth.apiKeys.forEach((key, index) => {
    if (!tenants.some((tenant) => tenant.id === key.tenant)) {
      problems.push(`auth.apiKeys[${index}].tenant: no tenant "${key.tenant}" is configured`);
    }
  });
  let jwt: AuthConfig['jwt'];
  if (auth.jwt !== undefined) {
    const { jwks } = auth.jwt;
    if ('file' in jwks) {
      const file = resolve(options.baseDir, jwks.file);
      let keys: Record<string, unknown>[] = [];
      try {
        keys = readJwksFile(file).keys;
      } catch (error) {
        problems.push(`auth.jwt.jwks.file: ${(error as Error).message}`);
      }
      jwt = { ...auth.jwt, jwks: { file, keys } };
    } else {
      jwt = { ...auth.jwt, jwks: { url: jwks.url } };
    }
  }
  return {
    apiKeys: auth.apiKeys.map((key) => ({ ...key, sha256: key.sha256.toLowerCase() })),
    jwt,
  };
}

/** A JSON Web Key Set from a file: `{"keys": [...]}`. Read at start and again on key rotation. */
export function readJwksFile(path: string): { keys: Record<string, unknown>[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read file ${path} (${errorCode(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`file ${path} is not JSON`);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'object' || key === null)) {
    throw new Error(`file ${path} is not a JWKS: expected {"keys": [ ... ]}`);
  }
  return { keys: keys as Record<string, unknown>[] };
}

/** The profile from the file or NODE_ENV, and GraphiQL and introspection from the profile. */
function resolveServer(
  server: RawServerConfig,
  options: ParseConfigOptions,
  problems: string[],
): ServerConfig {
  const { env } = options;
  const profile = server.profile ?? (env.NODE_ENV === 'production' ? 'production' : 'development');
  const development = profile === 'development';
  let logLevel = server.logLevel;
  if (env.LOG_LEVEL) {
    if ((LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL)) {
      logLevel = env.LOG_LEVEL as RawServerConfig['logLevel'];
    } else {
      // Not echoed: a value in the wrong variable may be a secret.
      problems.push(`LOG_LEVEL: expected one of ${LOG_LEVELS.join(', ')}`);
    }
  }
  let trustedDocuments: ServerConfig['trustedDocuments'];
  if (server.trustedDocuments !== undefined) {
    const file = resolve(options.baseDir, server.trustedDocuments.manifest.file);
    try {
      trustedDocuments = readTrustedDocuments(file);
    } catch (error) {
      problems.push(`server.trustedDocuments.manifest.file: ${(error as Error).message}`);
    }
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

function parseProvider(
  raw: unknown,
  label: string,
  problems: string[],
): RawProviderConfig | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${label}: expected an object`);
    return undefined;
  }
  const kind = (raw as { kind?: unknown }).kind;
  const definition = typeof kind === 'string' ? providerKindDefinition(kind) : undefined;
  if (definition === undefined) {
    // The value is not echoed: a secret typed in the wrong field would be printed.
    const received =
      typeof kind === 'string'
        ? 'a string that is none of them'
        : kind === undefined
          ? 'nothing'
          : typeof kind;
    problems.push(
      `${label}: kind: expected one of ${PROVIDER_KINDS.join(', ')}, received ${received}`,
    );
    return undefined;
  }
  const result = definition.configSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => `${label}: ${describeIssue(issue, raw)}`));
    return undefined;
  }
  return result.data as RawProviderConfig;
}

/** `providers[2] "ops"`, or `providers[2]` where the entry has no usable id. */
function providerLabel(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && ID_PATTERN.test(id)
    ? `providers[${index}] "${id}"`
    : `providers[${index}]`;
}

/** One line for one zod issue: the field's path, then what was expected. Never the value. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path;
  const field = path.length === 0 ? '(top level)' : formatPath(path);
  if (issue.code === 'unrecognized_keys') {
    // A key is named only when it looks like one: a secret pasted as a key is not echoed.
    return issue.keys
      .map((key) =>
        KEY_PATTERN.test(key)
          ? `${formatPath([...path, key])}: unknown key`
          : `${path.length === 0 ? '' : `${formatPath(path)}: `}an unknown key (not shown: it is not a valid key name)`,
      )
      .join('; ');
  }
  if (isMissing(input, path)) {
    // A check across fields may find a default wrong: that is said, not "is required".
    return issue.code === 'custom'
      ? `${field}: ${issue.message} (its default)`
      : `${field}: is required`;
  }
  if (issue.code === 'invalid_type') return `${field}: expected ${issue.expected}`;
  return `${field}: ${issue.message}`;
}

/** What a configuration key looks like; another unknown key is reported without its name. */
const KEY_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;
/** What an environment variable's name looks like; only such a name is echoed. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** True when the document has no value at `path` (zod does not report the input itself). */
function isMissing(input: unknown, path: PropertyKey[]): boolean {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return true;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value === undefined;
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

/** Every secret reference of a provider's credentials resolved to its value, the fields kept. */
function resolveCredentials<C extends Record<string, SecretReference>>(
  credentials: C,
  label: string,
  options: ParseConfigOptions,
  problems: string[],
): ResolvedCredentials<C> | undefined {
  const resolved: Record<string, string> = {};
  let ok = true;
  for (const [field, reference] of Object.entries(credentials)) {
    const value = resolveSecret(reference, `${label}: credentials.${field}`, options, problems);
    if (value === undefined) ok = false;
    else resolved[field] = value;
  }
  // Each field of `credentials` now holds its value: the shape of ResolvedCredentials<C>.
  return ok ? (resolved as ResolvedCredentials<C>) : undefined;
}

function resolveSecret(
  reference: SecretReference,
  where: string,
  options: ParseConfigOptions,
  problems: string[],
): string | undefined {
  if (typeof reference === 'string') return reference;
  if ('env' in reference) {
    const value = options.env[reference.env];
    if (value === undefined || value === '') {
      problems.push(
        ENV_NAME_PATTERN.test(reference.env)
          ? `${where}: environment variable ${reference.env} is not set`
          : `${where}: the environment variable named there is not set (and its name is not a valid variable name)`,
      );
      return undefined;
    }
    return value;
  }
  const path = resolve(options.baseDir, reference.file);
  try {
    // A secret file usually ends with a newline that is not part of the secret.
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (value === '') {
      problems.push(`${where}: file ${path} is empty`);
      return undefined;
    }
    return value;
  } catch (error) {
    problems.push(`${where}: cannot read file ${path} (${errorCode(error)})`);
    return undefined;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'unreadable';
}
