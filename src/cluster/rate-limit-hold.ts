import type { ClusterProviderRef } from './keys.js';
import { luaScript, type RedisLink, type RedisOutcome } from './redis-link.js';

/**
 * A provider's cluster-wide rate-limit hold: after a 429 with `Retry-After` seen by one instance,
 * no instance calls the provider before `retryUntil`. The value is that time in ms since the
 * epoch (no secret), and the key expires then, on Redis's clock.
 */
export interface RateLimitHold {
  /** Until when (ms since the epoch) calls must wait; undefined when no hold is in force. */
  until(): Promise<RedisOutcome<number | undefined>>;
  /**
   * Holds every instance's calls until `retryUntil`; a later hold already set stays. True when
   * this one was set.
   */
  holdUntil(retryUntil: number): Promise<RedisOutcome<boolean>>;
}

export interface RateLimitHoldOptions {
  link: RedisLink;
  ref: ClusterProviderRef;
  /** The app's clock; default Date.now. */
  now?: () => number;
}

/** Sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it holds a later time already. */
const HOLD_UNTIL = luaScript(`
local current = tonumber(redis.call('GET', KEYS[1]))
if current and current >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);

export function createRateLimitHold(options: RateLimitHoldOptions): RateLimitHold {
  const { link, ref } = options;
  const now = options.now ?? Date.now;
  const key = ref.key('hold');
  return {
    until: () =>
      link.run(async (redis) => {
        const stored = await redis.get(key);
        const until = stored === null || !/^\d{1,16}$/.test(stored) ? undefined : Number(stored);
        return until !== undefined && until > now() ? until : undefined;
      }),
    holdUntil(retryUntil) {
      const until = Math.ceil(retryUntil);
      const ttl = until - now();
      if (ttl < 1) return Promise.resolve({ ok: true, value: false });
      return link.run(async (redis) => (await HOLD_UNTIL.run(redis, [key], [until, ttl])) === 1);
    },
  };
}
