import { createHash, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

/**
 * Why a Redis operation gave nothing: the link was down (nothing was sent), the operation passed
 * its deadline, or Redis answered with an error.
 */
export type RedisFailure = 'down' | 'timeout' | 'failed';

/**
 * What every cluster operation returns. A failure is never thrown: the caller goes on alone, as
 * an instance without Redis would, and no client ever sees an error caused by Redis.
 */
export type RedisOutcome<T> = { ok: true; value: T } | { ok: false; reason: RedisFailure };

export interface RedisLinkOptions {
  /** A redis:// or rediss:// URL; never logged (it may carry a password). */
  url: string;
  /** Every operation's deadline (`cluster.redis.timeoutMs`, default 250). */
  timeoutMs: number;
  /** Where the transitions between up and down are told, once each. Default: not told. */
  log?: Logger | undefined;
  /** How often a down link checks that Redis answers again (ms). Default 1000. */
  probeIntervalMs?: number;
  /** The longest wait between reconnection attempts (ms). Default 2000. */
  maxReconnectDelayMs?: number;
}

/**
 * One instance's connection to the cluster's Redis. Up while Redis answers within the deadline;
 * down from the first operation that fails or passes it, or the connection's loss, until a PING
 * is answered again (checked every `probeIntervalMs`, and as soon as a lost connection is back).
 * While down, every operation fails at once without being sent.
 */
export interface RedisLink {
  /** A random id of this process, told apart from the other instances' (pub/sub, the lease). */
  readonly instanceId: string;
  /**
   * Runs `operation` (one or a few commands) within the deadline. Never throws and never takes
   * much longer than `timeoutMs`: down, timed out or failed, the caller is told at once.
   */
  run<T>(operation: (redis: Redis) => Promise<T>): Promise<RedisOutcome<T>>;
  /** Whether Redis answers now: `balance_api_cluster_redis_up`. */
  isUp(): boolean;
  /** Called on each transition (true: up). Returns the unsubscribe. */
  onStateChange(listener: (up: boolean) => void): () => void;
  /** Resolves true once up, or false after `timeoutMs` (a start need not wait for Redis). */
  whenUp(timeoutMs: number): Promise<boolean>;
  /** The connection in subscriber mode (pub/sub), made on first use, resubscribed on reconnect. */
  subscriber(): Redis;
  /** Closes both connections at once; operations fail as `down` from then on. */
  close(): void;
}

type State = 'starting' | 'up' | 'down' | 'closed';

/** After this many probes in a row pass their deadline, the connection is made anew. */
const PROBE_TIMEOUTS_BEFORE_RECONNECT = 3;
/** A Redis error answer (not a connection problem) is logged at most this often. */
const FAILURE_LOG_INTERVAL_MS = 60_000;

export function createRedisLink(options: RedisLinkOptions): RedisLink {
  const { timeoutMs, log } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  const maxReconnectDelayMs = options.maxReconnectDelayMs ?? 2000;
  const instanceId = randomUUID();
  const listeners = new Set<(up: boolean) => void>();
  let state: State = 'starting';
  let probeTimer: NodeJS.Timeout | undefined;
  let probing = false;
  let probeTimeouts = 0;
  let lastFailureLogAt = Number.NEGATIVE_INFINITY;
  let subscriberConnection: Redis | undefined;

  const redis = new Redis(options.url, {
    // A command is never queued while the connection is not ready: the caller goes on alone.
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails then, not after a reconnection.
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(1000, timeoutMs * 4),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs),
    lazyConnect: false,
  });
  // Errors surface as failed operations and 'close' events; an unheard 'error' would be printed.
  redis.on('error', () => {
    if (state === 'starting') transition('down', 'Redis cannot be reached');
  });
  redis.on('close', () => transition('down', 'the connection to Redis was lost'));
  redis.on('ready', () => {
    probeTimeouts = 0;
    probe();
  });

  function transition(next: 'up' | 'down', why: string): void {
    if (state === next || state === 'closed') return;
    const first = state === 'starting';
    state = next;
    if (next === 'up') {
      stopProbing();
      log?.info(
        first
          ? 'cluster: connected to Redis; sessions, reads, events and rate limits are shared'
          : 'cluster: Redis answers again; this instance rejoins the cluster',
      );
    } else {
      startProbing();
      log?.warn(`cluster: ${why}; this instance works alone until Redis answers again`);
    }
    for (const listener of [...listeners]) listener(next === 'up');
  }

  function startProbing(): void {
    if (probeTimer !== undefined) return;
    probeTimer = setInterval(probe, probeIntervalMs);
    probeTimer.unref();
  }

  function stopProbing(): void {
    if (probeTimer !== undefined) clearInterval(probeTimer);
    probeTimer = undefined;
  }

  /** One PING within the deadline, if the connection is ready; up when it is answered. */
  function probe(): void {
    if (probing || state === 'up' || state === 'closed' || redis.status !== 'ready') return;
    probing = true;
    void bounded(redis.ping()).then((outcome) => {
      probing = false;
      if (outcome.ok) {
        probeTimeouts = 0;
        transition('up', '');
        return;
      }
      if (outcome.reason === 'timeout') {
        probeTimeouts += 1;
        // A connection that never answers may be half-open (the host went away): make it anew.
        if (probeTimeouts >= PROBE_TIMEOUTS_BEFORE_RECONNECT) {
          probeTimeouts = 0;
          redis.disconnect(true);
        }
      }
      if (state === 'starting') transition('down', 'Redis does not answer');
    });
  }

  /** `pending` within the deadline; a late settlement is ignored. */
  function bounded<T>(pending: Promise<T>): Promise<RedisOutcome<T>> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, reason: 'timeout' }), timeoutMs);
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve({ ok: true, value });
        },
        (error: unknown) => {
          clearTimeout(timer);
          resolve({ ok: false, reason: isReplyError(error) ? 'failed' : 'down' });
        },
      );
    });
  }

  async function run<T>(operation: (redis: Redis) => Promise<T>): Promise<RedisOutcome<T>> {
    if (state !== 'up') return { ok: false, reason: 'down' };
    let pending: Promise<T>;
    try {
      pending = operation(redis);
    } catch {
      return { ok: false, reason: 'failed' };
    }
    const outcome = await bounded(pending);
    if (outcome.ok) return outcome;
    if (outcome.reason === 'timeout') {
      transition('down', `Redis did not answer within ${timeoutMs} ms`);
    } else if (outcome.reason === 'down') {
      transition('down', 'the connection to Redis failed');
    } else {
      // Redis answered, with an error: it is up, but this operation gave nothing.
      const at = Date.now();
      if (at - lastFailureLogAt >= FAILURE_LOG_INTERVAL_MS) {
        lastFailureLogAt = at;
        log?.warn('cluster: Redis refused an operation; this instance went on alone for it');
      }
    }
    return outcome;
  }

  return {
    instanceId,
    run,
    isUp: () => state === 'up',
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    whenUp(waitMs) {
      if (state === 'up') return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          listeners.delete(onChange);
          resolve(false);
        }, waitMs);
        timer.unref();
        const onChange = (up: boolean) => {
          if (!up) return;
          clearTimeout(timer);
          listeners.delete(onChange);
          resolve(true);
        };
        listeners.add(onChange);
      });
    },
    subscriber() {
      if (subscriberConnection === undefined) {
        // Subscriptions are sent again after a reconnection, so they may wait for the connection.
        subscriberConnection = redis.duplicate({
          enableOfflineQueue: true,
          maxRetriesPerRequest: null,
        });
        subscriberConnection.on('error', () => {});
      }
      return subscriberConnection;
    },
    close() {
      state = 'closed';
      stopProbing();
      listeners.clear();
      redis.disconnect();
      subscriberConnection?.disconnect();
    },
  };
}

/** An answer of Redis's own (`-ERR ...`, `-WRONGTYPE ...`), as opposed to a connection problem. */
function isReplyError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/** A Lua script run by its SHA-1 (EVALSHA), sent whole only when Redis does not have it yet. */
export interface LuaScript {
  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

/** Deletes KEYS[1] if its value is ARGV[1]: a lock or lease is freed only by its holder. */
export const DELETE_IF_VALUE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`);

/** Keeps KEYS[1] ARGV[2] ms more if its value is still ARGV[1]: only a lock's holder renews it. */
export const EXTEND_IF_VALUE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`);
