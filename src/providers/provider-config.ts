import { z } from 'zod';

/**
 * What every kind's configuration schema is built from: the fields every provider has, secret
 * references, upstream paths, and the type a kind's configuration has once its secrets are
 * resolved. `src/config/providers.ts` validates with the kinds' schemas and resolves the secrets.
 */

/** Provider and tenant ids; only a value of this syntax is ever echoed in a message. */
export const ID_PATTERN = /^[a-z0-9-]+$/;

/** A provider or tenant id. */
export const idSchema = z
  .string()
  .regex(ID_PATTERN, { error: 'expected lower-case letters, digits and "-"' });

/** A secret as written in the file: the value itself, or where to read it. */
export const secretReference = z.union(
  [
    z.string().min(1),
    z.strictObject({ env: z.string().min(1) }),
    z.strictObject({ file: z.string().min(1) }),
  ],
  { error: 'expected a string, { "env": "NAME" } or { "file": "PATH" }' },
);
export type SecretReference = z.infer<typeof secretReference>;

/** An upstream path override: absolute, no scheme or host. */
export const upstreamPath = z
  .string()
  .regex(/^\/[^\s?#]*$/, { error: 'expected a path starting with "/", without query or spaces' });

/** The fields of every provider, whatever its kind. */
export const commonProviderFields = {
  id: idSchema,
  /** Display name; defaults to a name for the kind. */
  name: z.string().min(1).optional(),
  /** The upstream's base URL; the paths of PROVIDERS.md are appended to it. */
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    // A URL is logged and shown in places a secret must never reach.
    .refine(
      (url) =>
        // An invalid URL is already reported above.
        !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''),
      {
        error: 'must not carry a user name or password; give them under "credentials"',
      },
    ),
  /**
   * Deadline for one read of the provider: its login, its calls and their retries, connecting,
   * headers and body included. Default 5000.
   */
  timeoutMs: z.number().int().min(1).max(120_000).default(5000),
  /** Retries of reads on transient failures (reset, refused, 502/503/504, 429). */
  retry: z
    .strictObject({
      /** 0 to 2; default 2. */
      maxRetries: z.number().int().min(0).max(2).default(2),
      /** A longer Retry-After is not waited for: the 429 is returned at once. Default 2000. */
      maxRetryAfterMs: z.number().int().min(0).max(60_000).default(2000),
    })
    .prefault({}),
  /** After this many failed reads in a row, fail fast for `cooldownMs`, then let one probe through. */
  circuitBreaker: z
    .strictObject({
      /** Default 5. */
      failureThreshold: z.number().int().min(1).max(1000).default(5),
      /** Default 10 000. */
      cooldownMs: z.number().int().min(1).max(600_000).default(10_000),
    })
    .prefault({}),
  /** Reads of this provider under way at once, at most (a bulkhead); more wait, within the deadline. Default 10. */
  maxConcurrency: z.number().int().min(1).max(1000).default(10),
  /** Concurrent identical reads (same tenant, provider and currencies) share one upstream call. Default true. */
  coalesceReads: z.boolean().default(true),
  /** Serve reads from a read this recent (ms); default 0: every request reads the provider. */
  cacheTtlMs: z.number().int().min(0).max(3_600_000).default(0),
  /**
   * Stale-if-error (ms): a failed read is answered with a successful read of the provider this
   * recent that covered the currencies asked for, marked `stale`. Default 0: off.
   */
  staleIfErrorMs: z.number().int().min(0).max(86_400_000).default(0),
  /** How often a provider with live subscribers is read (ms); at least 100. Default 30 000. */
  pollIntervalMs: z.number().int().min(100).max(86_400_000).default(30_000),
  /**
   * Longest session token accepted from a login (bytes); a longer one, or one that cannot be sent
   * in a header, fails the login as UPSTREAM_BAD_RESPONSE. Default 8192.
   */
  maxTokenBytes: z.number().int().min(64).max(65_536).default(8192),
  /** Largest upstream body accepted; default 8 MiB. */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .max(256 * 1024 * 1024)
    .default(8 * 1024 * 1024),
};

/** What a kind's configuration schema must be: a strict object with the common fields. */
export type ProviderConfigSchema<Name extends string = string> = z.ZodType<
  {
    kind: Name;
    credentials: Record<string, SecretReference>;
    paths: Record<string, string | undefined>;
  } & z.infer<z.ZodObject<typeof commonProviderFields>>
>;

type KeysOfUnion<U> = U extends unknown ? keyof U : never;

/**
 * Credentials with every secret reference resolved to its value. Of a union (`{ apiKey } |
 * { email, password }`) each member keeps its own fields and has the others' as `undefined`, so
 * an adapter can tell them apart by any field.
 */
export type ResolvedCredentials<C, All = C> = C extends unknown
  ? { [K in keyof C]: string } & { [K in Exclude<KeysOfUnion<All>, keyof C>]?: undefined }
  : never;

/** A kind's configuration as its adapter receives it: validated, with its secrets resolved. */
export type ResolvedProviderConfig<S extends ProviderConfigSchema> = Omit<
  z.infer<S>,
  'credentials'
> & { credentials: ResolvedCredentials<z.infer<S>['credentials']> };

/** What every resolved provider configuration has, whatever its kind. */
export type CommonProviderConfig = z.infer<z.ZodObject<typeof commonProviderFields>> & {
  kind: string;
  credentials: Readonly<Record<string, string | undefined>>;
  /** The kind's path overrides; a path not given is the kind's default. */
  paths: Readonly<Record<string, string | undefined>>;
};
