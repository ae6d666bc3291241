import { z } from 'zod';
import { secretReference } from '../providers/provider-config.js';
import { type ConfigSources, resolveSecret } from './secrets.js';

/**
 * The `cluster` section: several instances sharing sessions, reads, events and rate-limit holds
 * through one Redis (CONTRACT.md "Running several instances (Redis)"). Without it nothing of the
 * kind is loaded.
 */

/** Default `cluster.redis.timeoutMs`: the deadline of every Redis operation. */
export const DEFAULT_REDIS_TIMEOUT_MS = 250;
/** Default `cluster.keyPrefix`. */
export const DEFAULT_KEY_PREFIX = 'balance-api:';
/** Default `cluster.leaseMs`. */
export const DEFAULT_LEASE_MS = 10_000;
/** How many bytes `cluster.tokenKey` holds (AES-256). */
export const TOKEN_KEY_BYTES = 32;

export const clusterSchema = z.strictObject({
  redis: z
    .strictObject({
      url: secretReference.describe(
        'The Redis URL, redis:// or rediss:// (TLS): a string, { "env": "NAME" } or { "file": "PATH" }; it may carry a password.',
      ),
      /** Every Redis operation's deadline (ms); past it this instance goes on alone at once. Default 250. */
      timeoutMs: z
        .number()
        .int()
        .min(1)
        .max(10_000)
        .default(DEFAULT_REDIS_TIMEOUT_MS)
        .describe(
          'Deadline of every Redis operation (ms); past it the instance goes on alone. Default 250.',
        ),
    })
    .describe('Where the instances meet.'),
  /** 32 random bytes in base64 (`openssl rand -base64 32`); required. */
  tokenKey: secretReference.describe(
    '32 random bytes in base64 (openssl rand -base64 32), the same on every instance: encrypts everything kept in Redis. A string, { "env": "NAME" } or { "file": "PATH" }.',
  ),
  /** Starts every key and channel name. Default "balance-api:". */
  keyPrefix: z
    .string()
    .regex(/^[\x21-\x7e]{1,100}$/, {
      error: 'expected 1 to 100 visible ASCII characters (no spaces)',
    })
    .default(DEFAULT_KEY_PREFIX)
    .describe('Starts every Redis key and channel. Default "balance-api:".'),
  /** A dead polling instance is replaced within this (ms). Default 10 000. */
  leaseMs: z
    .number()
    .int()
    .min(100)
    .max(600_000)
    .default(DEFAULT_LEASE_MS)
    .describe(
      'The polling lease (ms): when the instance polling a provider dies, another takes over within it. Default 10000.',
    ),
});
export type ParsedClusterConfig = z.output<typeof clusterSchema>;

/** The `cluster` section, validated, its secrets resolved. Never log it: it holds secrets. */
export interface ClusterConfig {
  redis: {
    /** A redis:// or rediss:// URL, possibly with a password. */
    url: string;
    /** Default 250. */
    timeoutMs: number;
  };
  /** The 32 bytes of `tokenKey`. */
  tokenKey: Buffer;
  /** Default "balance-api:". */
  keyPrefix: string;
  /** Default 10 000. */
  leaseMs: number;
}

/**
 * The section with its secrets read and checked: the URL's scheme and the key's length. Problems
 * go to `problems`, one line each naming the field, never a value (the URL may hold a password).
 * Undefined when the file has no `cluster` or it has a problem.
 */
export function resolveCluster(
  cluster: ParsedClusterConfig | undefined,
  sources: ConfigSources,
  problems: string[],
): ClusterConfig | undefined {
  if (cluster === undefined) return undefined;
  const before = problems.length;
  const url = resolveSecret(cluster.redis.url, 'cluster.redis.url', sources, problems);
  if (url !== undefined) {
    const problem = redisUrlProblem(url);
    if (problem !== undefined) problems.push(`cluster.redis.url: ${problem}`);
  }
  const text = resolveSecret(cluster.tokenKey, 'cluster.tokenKey', sources, problems);
  const tokenKey = text === undefined ? undefined : decodeTokenKey(text);
  if (typeof tokenKey === 'string') problems.push(`cluster.tokenKey: ${tokenKey}`);
  if (problems.length > before || url === undefined || !(tokenKey instanceof Buffer)) {
    return undefined;
  }
  return {
    redis: { url, timeoutMs: cluster.redis.timeoutMs },
    tokenKey,
    keyPrefix: cluster.keyPrefix,
    leaseMs: cluster.leaseMs,
  };
}

/** Why a text is not a Redis URL, without quoting any of it; undefined for a good one. */
export function redisUrlProblem(url: string): string | undefined {
  if (!URL.canParse(url)) {
    return 'expected a redis:// or rediss:// URL, received text that is not a URL';
  }
  const { protocol } = new URL(url);
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    return 'expected a redis:// or rediss:// URL, received a URL of another scheme';
  }
  return undefined;
}

/**
 * The key's 32 bytes, or why the text is not them (never quoting it). Standard base64 with or
 * without its padding, or the URL-safe alphabet.
 */
export function decodeTokenKey(text: string): Buffer | string {
  const expected = `expected ${TOKEN_KEY_BYTES} random bytes in base64 (44 characters, as \`openssl rand -base64 32\` prints them)`;
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || trimmed.replace(/=+$/, '').length % 4 === 1) {
    return `${expected}, received text that is not base64`;
  }
  const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== TOKEN_KEY_BYTES) {
    return `${expected}, received base64 of ${bytes.length} bytes`;
  }
  return bytes;
}
