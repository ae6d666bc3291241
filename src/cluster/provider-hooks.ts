import { randomBytes } from 'node:crypto';
import type { ProviderConfig } from '../config/providers.js';
import type { PollingTurn, ProviderClusterLink } from '../provider-events.js';
import type { SharedReadPath, SharedReadStart } from '../provider-reader.js';
import type { ProviderStatusTracker } from '../provider-status.js';
import { UpstreamError } from '../upstream/errors.js';
import { readRetryAfterSeconds } from '../upstream/http-errors.js';
import type { ProviderObserver, UpstreamReadWatch } from '../upstream/observer.js';
import type { SessionSharing } from '../upstream/token-cache.js';
import type { ClusterProviderRef, ProviderIdentity } from './keys.js';
import type { LeaseKeeper } from './polling-lease.js';
import type { RateLimitHold } from './rate-limit-hold.js';
import type { ReadEventBus } from './read-events.js';
import { DELETE_IF_VALUE, EXTEND_IF_VALUE, luaScript, type RedisLink } from './redis-link.js';
import { openSharedRead, type SharedReads } from './shared-reads.js';
import { obtainSharedSession, type SharedSessions } from './shared-sessions.js';
import type { ValueCodec } from './value-codec.js';

/**
 * What one provider runtime is given to act as one with the other instances: its session, its
 * reads and its polling go through the cluster. Every part works alone, as without a cluster,
 * whenever Redis does not answer.
 */
export interface ProviderClusterHooks {
  /** For the token slot; undefined for `merchant`, whose sessions stay per instance. */
  sessions: SessionSharing | undefined;
  /** For the provider reader. */
  reads: SharedReadPath;
  /** For the live hub. */
  link: ProviderClusterLink;
  /**
   * The provider's observer for its transport: `inner` (metrics, traces; may be none) told of
   * everything, and the cluster of every 429 with Retry-After, one the transport waits out too.
   */
  observe(inner: ProviderObserver | undefined): ProviderObserver;
}

/**
 * How long a lock (a login's or a read's) lives unless its holder renews it (ms): it renews it
 * every third of that while it logs in or reads, so an instance that dies meanwhile keeps the
 * others waiting this long at most, and they still have their deadline to do it themselves.
 */
const LOCK_TTL_MS = 1000;

/**
 * The settings of a provider that decide whose account it reads and what it answers: everything
 * but its tuning. Two instances whose providers differ in any of them never share a thing.
 */
export function providerIdentity(config: ProviderConfig): ProviderIdentity {
  const {
    id: _id,
    name: _name,
    kind,
    baseUrl,
    credentials,
    timeoutMs: _timeoutMs,
    retry: _retry,
    circuitBreaker: _circuitBreaker,
    maxConcurrency: _maxConcurrency,
    coalesceReads: _coalesceReads,
    cacheTtlMs: _cacheTtlMs,
    staleIfErrorMs: _staleIfErrorMs,
    pollIntervalMs: _pollIntervalMs,
    maxTokenBytes: _maxTokenBytes,
    maxResponseBytes: _maxResponseBytes,
    ...settings
  } = config;
  return { kind, baseUrl, credentials, settings };
}

/** A provider's session shared through the cluster: one login for every instance. */
export function createSessionSharing(options: {
  sessions: SharedSessions;
  now: () => number;
  /** How long another instance's login is waited for at most: the provider's `timeoutMs`. */
  maxWaitMs: number;
}): SessionSharing {
  const { sessions, now, maxWaitMs } = options;
  return {
    async obtain(login, usable, keep) {
      const { token, from } = await obtainSharedSession({
        sessions,
        login,
        usable: (shared) => usable(shared, shared.obtainedAt),
        keep,
        now,
        lockTtlMs: LOCK_TTL_MS,
        maxWaitMs,
      });
      return {
        token: { value: token.value, expiresAt: token.expiresAt },
        obtainedAt: token.obtainedAt,
        fresh: from === 'login',
      };
    },
    // Without Redis the instance goes on alone: these tell the cluster if it can be told.
    invalidate(value) {
      void sessions.invalidate(value);
    },
    rotate(previous, next, obtainedAt) {
      void sessions.rotate(previous, { ...next, obtainedAt });
    },
  };
}

/**
 * One round trip before an upstream read. KEYS: the reads hash, the hold, the read lock. ARGV: now
 * (ms), the freshness window (0: no lookup), the lock ('' leave it, '?' say whether it is held,
 * else the holder to take it for), the lock's TTL (ms), then the shapes to look up. Answers
 * {'read', shape, value}, {'hold', until}, {'lock'} (taken), {'busy'} (another instance reads) or
 * {'go'}.
 */
const BEFORE_READ = luaScript(`
local now = tonumber(ARGV[1])
local maxAge = tonumber(ARGV[2])
if maxAge > 0 then
  for i = 5, #ARGV do
    local value = redis.call('HGET', KEYS[1], ARGV[i])
    if value then
      local at = tonumber(string.match(value, '^(%-?%d+)%.'))
      if at and now - at < maxAge then return {'read', ARGV[i], value} end
    end
  end
end
local holdText = redis.call('GET', KEYS[2])
local hold = tonumber(holdText)
if hold and hold > now then return {'hold', holdText} end
if ARGV[3] == '' then return {'go'} end
if ARGV[3] == '?' then
  if redis.call('EXISTS', KEYS[3]) == 1 then return {'busy'} end
  return {'go'}
end
if redis.call('SET', KEYS[3], ARGV[3], 'NX', 'PX', ARGV[4]) then return {'lock'} end
return {'busy'}`);

export interface SharedReadPathOptions {
  link: RedisLink;
  codec: ValueCodec;
  ref: ClusterProviderRef;
  reads: SharedReads;
  hold: RateLimitHold;
  /** The app's clock (read ages, holds). */
  now: () => number;
  config: Pick<ProviderConfig, 'id' | 'cacheTtlMs' | 'staleIfErrorMs' | 'retry'>;
  /** How often an instance waiting for another's read looks for it (ms); default 10. */
  waitPollMs?: number;
}

/**
 * A provider's reads through the cluster. Before an upstream read, in one round trip: a read of
 * another instance within `cacheTtlMs` answers; a rate-limit hold is waited out when it fits
 * `retry.maxRetryAfterMs` and the deadline (as the instance's own 429 would be), else refuses;
 * otherwise this instance takes the read's lock and reads, or, when another instance reads the
 * same currencies now, waits for its read (looking every few ms) rather than read too, and reads
 * itself if that read does not come (it failed, or its instance died: the lock lives
 * LOCK_TTL_MS unless renewed) or the deadline nears. Polls (`fresh`) skip the
 * window and the lock. A successful read is shared for the longer window; a 429 with
 * `Retry-After` holds every instance. Any Redis trouble: this instance reads, alone.
 */
export function createSharedReadPath(options: SharedReadPathOptions): SharedReadPath {
  const { link, codec, ref, reads, hold, now, config } = options;
  const waitPollMs = options.waitPollMs ?? 10;
  const windowMs = Math.max(config.cacheTtlMs, config.staleIfErrorMs);
  const lockTtlMs = LOCK_TTL_MS;
  const readKey = ref.key('read');
  const holdKey = ref.key('hold');
  const lockKeyOf = (shape: string) =>
    `${ref.key('read-lock')}:${codec.digest('read shape', shape).slice(0, 16)}`;

  /** What this instance read (or the hold its 429 asks for) goes to the cluster; then the lock. */
  function share(
    key: string,
    outcome: Parameters<Extract<SharedReadStart, { go: unknown }>['go']>[0],
    release?: () => Promise<unknown>,
  ): void {
    void (async () => {
      if (outcome.ok) {
        if (windowMs > 0 && outcome.read.stale !== true) {
          await reads.store(key, outcome.read, windowMs);
        }
      } else {
        const seconds = retryAfterOf(outcome.error);
        if (seconds !== undefined) await hold.holdUntil(now() + seconds * 1000);
      }
      await release?.();
    })();
  }

  const alone: SharedReadStart = { go: () => {} };

  return {
    async before(key, fresh, deadlineAt) {
      const shapes = key === '*' ? ['*'] : ['*', key];
      const shared = !fresh && config.cacheTtlMs > 0;
      const lockKey = shared ? lockKeyOf(key) : holdKey;
      let look = shared;
      // Take the lock: only a read that others may share is worth their waiting for.
      let lock: 'take' | 'watch' | 'none' = shared ? 'take' : 'none';
      for (;;) {
        const holder = lock === 'take' ? randomBytes(12).toString('hex') : '';
        const outcome = await link.run((redis) =>
          BEFORE_READ.run(
            redis,
            [readKey, holdKey, lockKey],
            [
              now(),
              look ? config.cacheTtlMs : 0,
              lock === 'take' ? holder : lock === 'watch' ? '?' : '',
              lockTtlMs,
              ...shapes,
            ],
          ),
        );
        if (!outcome.ok) return alone;
        const [what, first, second] = outcome.value as string[];
        if (what === 'read') {
          const read = openSharedRead(codec, ref, first as string, second);
          if (read !== undefined) return { read };
          // Written by an instance of another version or key: as good as absent.
          look = false;
          continue;
        }
        if (what === 'hold') {
          const waitMs = Number(first) - now();
          if (waitMs <= config.retry.maxRetryAfterMs && performance.now() + waitMs < deadlineAt) {
            await sleep(waitMs);
            look = shared;
            continue;
          }
          return { refuse: heldError(config.id, waitMs) };
        }
        if (what === 'lock') {
          // Renewed while the read lasts: the others wait for a live reader only.
          const renewal = setInterval(() => {
            void link.run((redis) => EXTEND_IF_VALUE.run(redis, [lockKey], [holder, lockTtlMs]));
          }, lockTtlMs / 3);
          renewal.unref();
          return {
            go: (ended) => {
              clearInterval(renewal);
              share(key, ended, () =>
                link.run((redis) => DELETE_IF_VALUE.run(redis, [lockKey], [holder])),
              );
            },
          };
        }
        if (what === 'busy' && performance.now() + waitPollMs < deadlineAt) {
          // Another instance reads these currencies now: its read will be in the window.
          lock = 'watch';
          await sleep(waitPollMs);
          look = shared;
          continue;
        }
        // Nobody reads them (any more) and no read came: this instance reads, and shares it.
        return { go: (ended) => share(key, ended) };
      }
    },
    async stale(key) {
      if (config.staleIfErrorMs <= 0) return undefined;
      const outcome = await reads.covering(key, config.staleIfErrorMs);
      return outcome.ok ? outcome.value : undefined;
    },
  };
}

/** The Retry-After (s) of a 429 that said when; undefined for anything else. */
function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof UpstreamError) || error.code !== 'UPSTREAM_RATE_LIMITED') return undefined;
  const seconds = error.retryAfterSeconds;
  return seconds !== undefined && seconds > 0 ? seconds : undefined;
}

/** What a read held by the cluster answers: the provider's 429, as whichever instance saw it. */
function heldError(providerId: string, waitMs: number): UpstreamError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new UpstreamError(
    'UPSTREAM_RATE_LIMITED',
    `${providerId}: the provider rate limited this service and asked it to wait (HTTP 429 with Retry-After); retry after ${retryAfterSeconds} s`,
    { providerId, status: 429, retryAfterSeconds },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** What an upstream read is watched by when only the cluster watches its calls. */
const UNWATCHED_READ: UpstreamReadWatch = {
  scope: { hold: () => {}, counted: () => {} },
  callsDone: () => {},
  ended: () => {},
};

/**
 * `inner` with every answer of HTTP 429 that says when (`Retry-After`) told to `onRetryAfter`,
 * as the transport receives it: also the 429 it then waits out and tries again, which the read's
 * outcome never shows.
 */
export function observeRateLimits(
  inner: ProviderObserver | undefined,
  onRetryAfter: (seconds: number) => void,
): ProviderObserver {
  return {
    call(info, headers, scope) {
      const watch = inner?.call(info, headers, scope);
      return {
        answered(response) {
          if (response.status === 429) {
            const seconds = readRetryAfterSeconds(response.headers);
            if (seconds !== undefined && seconds > 0) onRetryAfter(seconds);
          }
          watch?.answered(response);
        },
        failed: (error) => watch?.failed(error),
        superseded: () => watch?.superseded(),
      };
    },
    cached: (parent) => inner?.cached(parent),
    joined: (read, parent) => inner?.joined(read, parent),
    upstream: (parent) => inner?.upstream(parent) ?? UNWATCHED_READ,
  };
}

/** The live hub's side: the polling lease, and the other instances' reads told to the status. */
export function createProviderClusterLink(options: {
  ref: ClusterProviderRef;
  events: ReadEventBus;
  status: ProviderStatusTracker;
  keepLease: (options: { onChange: (polls: boolean) => void }) => LeaseKeeper;
}): ProviderClusterLink {
  const { ref, events, status } = options;
  /** The keeper of the live hub's poller of this runtime (it has one at most). */
  let current: LeaseKeeper | undefined;
  return {
    keepLease(onChange): PollingTurn {
      const keeper = options.keepLease({ onChange });
      current = keeper;
      return {
        polls: () => keeper.shouldPoll(),
        stop: () => {
          if (current === keeper) current = undefined;
          void keeper.stop();
        },
      };
    },
    polls: () => current?.shouldPoll() === true,
    listen() {
      const subscription = events.subscribe(ref, (event) => status.recordRemote(event));
      return () => subscription.unsubscribe();
    },
  };
}
