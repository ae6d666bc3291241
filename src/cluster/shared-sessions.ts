import { randomBytes } from 'node:crypto';
import type { SessionToken } from '../upstream/token-cache.js';
import type { ClusterProviderRef } from './keys.js';
import {
  DELETE_IF_VALUE,
  EXTEND_IF_VALUE,
  luaScript,
  type RedisLink,
  type RedisOutcome,
} from './redis-link.js';
import type { ValueCodec } from './value-codec.js';

/**
 * One (tenant, provider)'s session shared by the cluster: the token sealed under `tokenKey`,
 * expiring with it, and a login lock so that one instance logs in while the others wait for its
 * token. Only for kinds whose sessions are portable (not `merchant`: its sessions are bound to
 * the client's address).
 *
 * The value is `<fingerprint>.<sealed token>`: the fingerprint (a keyed digest of the token) lets
 * Redis drop or replace exactly the token an instance saw rejected or rotated, without the token
 * being readable there.
 */

/** A session token as shared: with when it was obtained, so every instance renews it alike. */
export interface SharedSessionToken extends SessionToken {
  /** When the login that got it started (ms since the epoch). */
  obtainedAt: number;
}

/** The login lock of one (tenant, provider), held by this instance. */
export interface LoginLock {
  /** Frees the lock if this instance still holds it (compare-and-delete). */
  release(): Promise<RedisOutcome<boolean>>;
  /** Keeps the lock `ttlMs` more if this instance still holds it. */
  extend(ttlMs: number): Promise<RedisOutcome<boolean>>;
}

export interface SharedSessions {
  /** The shared token, undefined when there is none (or it cannot be opened). */
  read(): Promise<RedisOutcome<SharedSessionToken | undefined>>;
  /** Shares `token` until its expiry; false when it has already expired. */
  write(token: SharedSessionToken): Promise<RedisOutcome<boolean>>;
  /** Forgets the shared token if it is still `value` (a newer one is kept); true if it was. */
  invalidate(value: string): Promise<RedisOutcome<boolean>>;
  /** Replaces the shared token by `next` if it is still `previous`; true if it was. */
  rotate(previous: string, next: SharedSessionToken): Promise<RedisOutcome<boolean>>;
  /** Takes the login lock for `ttlMs`; undefined when another instance holds it. */
  lock(ttlMs: number): Promise<RedisOutcome<LoginLock | undefined>>;
}

export interface SharedSessionsOptions {
  link: RedisLink;
  codec: ValueCodec;
  ref: ClusterProviderRef;
  /** The app's clock (token lifetimes); default Date.now. */
  now?: () => number;
}

/** Deletes KEYS[1] if its value starts with ARGV[1] and a ".". */
const DELETE_IF_FINGERPRINT = luaScript(`
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. '.' then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** Sets KEYS[1] to ARGV[2] for ARGV[3] ms if its value starts with ARGV[1] and a ".". */
const REPLACE_IF_FINGERPRINT = luaScript(`
local current = redis.call('GET', KEYS[1])
if current and string.sub(current, 1, #ARGV[1] + 1) == ARGV[1] .. '.' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`);

export function createSharedSessions(options: SharedSessionsOptions): SharedSessions {
  const { link, codec, ref } = options;
  const now = options.now ?? Date.now;
  const key = ref.key('session');
  const lockKey = ref.key('login-lock');
  const context = { purpose: 'session', tenantId: ref.tenantId, providerId: ref.providerId };
  const fingerprint = (value: string) =>
    codec.digest('session token', ref.tenantId, ref.providerId, ref.digest, value);

  function encode(token: SharedSessionToken): string {
    const sealed = codec.seal(
      JSON.stringify({
        value: token.value,
        expiresAt: token.expiresAt,
        obtainedAt: token.obtainedAt,
      }),
      context,
    );
    return `${fingerprint(token.value)}.${sealed}`;
  }

  function decode(stored: string | null): SharedSessionToken | undefined {
    if (stored === null) return undefined;
    const dot = stored.indexOf('.');
    const plain = dot < 0 ? undefined : codec.open(stored.slice(dot + 1), context);
    if (plain === undefined) return undefined;
    try {
      const { value, expiresAt, obtainedAt } = JSON.parse(plain) as Record<string, unknown>;
      if (
        typeof value !== 'string' ||
        typeof expiresAt !== 'number' ||
        typeof obtainedAt !== 'number'
      ) {
        return undefined;
      }
      return { value, expiresAt, obtainedAt };
    } catch {
      return undefined;
    }
  }

  return {
    read: () => link.run(async (redis) => decode(await redis.get(key))),
    write(token) {
      const ttl = Math.floor(token.expiresAt - now());
      if (ttl < 1) return Promise.resolve({ ok: true, value: false });
      return link.run(async (redis) => (await redis.set(key, encode(token), 'PX', ttl)) === 'OK');
    },
    invalidate: (value) =>
      link.run(
        async (redis) =>
          (await DELETE_IF_FINGERPRINT.run(redis, [key], [fingerprint(value)])) === 1,
      ),
    rotate(previous, next) {
      const ttl = Math.floor(next.expiresAt - now());
      if (ttl < 1) return Promise.resolve({ ok: true, value: false });
      return link.run(
        async (redis) =>
          (await REPLACE_IF_FINGERPRINT.run(
            redis,
            [key],
            [fingerprint(previous), encode(next), ttl],
          )) === 1,
      );
    },
    lock(ttlMs) {
      const holder = randomBytes(16).toString('hex');
      return link.run(async (redis): Promise<LoginLock | undefined> => {
        const taken = await redis.set(lockKey, holder, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
        if (taken !== 'OK') return undefined;
        return {
          release: () =>
            link.run(async (r) => (await DELETE_IF_VALUE.run(r, [lockKey], [holder])) === 1),
          extend: (more) =>
            link.run(
              async (r) =>
                (await EXTEND_IF_VALUE.run(
                  r,
                  [lockKey],
                  [holder, Math.max(1, Math.ceil(more))],
                )) === 1,
            ),
        };
      });
    },
  };
}

export interface ObtainSessionOptions {
  sessions: SharedSessions;
  /** The provider's own login. */
  login: () => Promise<SessionToken>;
  /** Whether a shared token may serve now, rather than be renewed (it is not due yet). */
  usable: (token: SharedSessionToken) => boolean;
  /** Whether a token just obtained may be kept (it can be sent); default: every token. */
  keep?: (token: SessionToken) => boolean;
  /** The app's clock; default Date.now. */
  now?: () => number;
  /**
   * How long the login lock lives unless renewed: the holder renews it every third of that while
   * its login lasts, so a holder that dies keeps the others waiting this long at most.
   */
  lockTtlMs: number;
  /** How long to wait for another instance's login before logging in here; default `lockTtlMs`. */
  maxWaitMs?: number;
  /** How often a waiting instance looks for the other's token (ms); default 25. */
  pollMs?: number;
}

/** A token, and whether it came from the cluster or from a login made here. */
export interface ObtainedSession {
  token: SharedSessionToken;
  from: 'cluster' | 'login';
}

/**
 * A token for one (tenant, provider) with one login across the cluster: the shared token when it
 * is usable; otherwise this instance takes the login lock, reads again (another instance may have
 * just logged in), logs in and shares the token. While another instance holds the lock, this one
 * waits for its token (at most `maxWaitMs`, then logs in itself). Whenever Redis is down, slow or
 * refuses, it logs in alone at once. A login's failure is the caller's, as without a cluster.
 * Call it behind the in-process single flight (the token slot's login).
 */
export async function obtainSharedSession(options: ObtainSessionOptions): Promise<ObtainedSession> {
  const { sessions, usable } = options;
  const now = options.now ?? Date.now;
  const keep = options.keep ?? (() => true);
  const pollMs = options.pollMs ?? 25;
  const waitUntil = performance.now() + (options.maxWaitMs ?? options.lockTtlMs);

  const loginHere = async (share: boolean): Promise<ObtainedSession> => {
    const obtainedAt = now();
    const token = { ...(await options.login()), obtainedAt };
    if (share && keep(token)) await sessions.write(token);
    return { token, from: 'login' };
  };

  for (;;) {
    const shared = await sessions.read();
    if (!shared.ok) return loginHere(false);
    if (shared.value !== undefined && usable(shared.value)) {
      return { token: shared.value, from: 'cluster' };
    }
    const lock = await sessions.lock(options.lockTtlMs);
    if (!lock.ok) return loginHere(false);
    if (lock.value !== undefined) {
      const held = lock.value;
      const renewal = setInterval(() => void held.extend(options.lockTtlMs), options.lockTtlMs / 3);
      renewal.unref();
      try {
        // Another instance may have logged in between the read and the lock.
        const again = await sessions.read();
        if (!again.ok) return await loginHere(false);
        if (again.value !== undefined && usable(again.value)) {
          return { token: again.value, from: 'cluster' };
        }
        return await loginHere(true);
      } finally {
        clearInterval(renewal);
        await held.release();
      }
    }
    // Another instance is logging in: its token will be shared.
    if (performance.now() + pollMs > waitUntil) return loginHere(true);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
