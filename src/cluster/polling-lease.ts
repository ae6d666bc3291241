import { BACKGROUND_TIMERS, type Timers } from '../timers.js';
import type { ClusterProviderRef } from './keys.js';
import { DELETE_IF_VALUE, luaScript, type RedisLink, type RedisOutcome } from './redis-link.js';

/**
 * Which instance polls a (tenant, provider) for its live subscribers: the one holding the lease, a
 * Redis key whose value is the holder's instance id. The holder renews it; when the holder dies
 * the key expires and another instance with subscribers takes it. Instances without subscribers
 * of the provider do not contend.
 */
export interface PollingLease {
  /** Takes the lease, or renews it when this instance holds it; true while it does. */
  hold(ttlMs: number): Promise<RedisOutcome<boolean>>;
  /** Gives the lease up if this instance holds it, so another takes over at once. */
  release(): Promise<RedisOutcome<boolean>>;
}

/** KEYS[1] is ARGV[1]'s for ARGV[2] ms more if it was or was nobody's; 1 if ARGV[1] holds it. */
const HOLD_LEASE = luaScript(`
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`);

export function createPollingLease(link: RedisLink, ref: ClusterProviderRef): PollingLease {
  const key = ref.key('lease');
  return {
    hold: (ttlMs) =>
      link.run(
        async (redis) =>
          (await HOLD_LEASE.run(redis, [key], [link.instanceId, Math.max(1, Math.ceil(ttlMs))])) ===
          1,
      ),
    release: () =>
      link.run(async (redis) => (await DELETE_IF_VALUE.run(redis, [key], [link.instanceId])) === 1),
  };
}

export interface LeaseKeeperOptions {
  lease: PollingLease;
  link: RedisLink;
  /** `cluster.leaseMs`: a dead holder is replaced within it. */
  leaseMs: number;
  /** What the keeper runs on (tests pass timers they fire themselves); default: real, unref'd. */
  timers?: Timers;
  /** Called when `shouldPoll()` changes. */
  onChange?: (shouldPoll: boolean) => void;
}

/**
 * Keeps one (tenant, provider)'s lease while this instance has subscribers of it: started with
 * the first, stopped with the last. The key lives leaseMs/2 and every instance with subscribers
 * tries to take or renew it every leaseMs/6, so the holder renews it twice before it could lapse
 * and a dead holder is replaced at most leaseMs/2 + leaseMs/6 after its last renewal: within one
 * lease.
 */
export interface LeaseKeeper {
  /**
   * Whether this instance polls: it holds the lease, or Redis does not answer (then every
   * instance polls for its own subscribers, as without a cluster).
   */
  shouldPoll(): boolean;
  /** The first attempt's outcome: whether this instance polls. */
  readonly started: Promise<boolean>;
  /** Stops renewing and gives the lease up. */
  stop(): Promise<void>;
}

export function startLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { lease, link, leaseMs } = options;
  const timers = options.timers ?? BACKGROUND_TIMERS;
  const ttlMs = Math.max(1, Math.floor(leaseMs / 2));
  const everyMs = Math.max(1, Math.floor(leaseMs / 6));
  let holding = false;
  let alone = false;
  let stopped = false;
  let timer: unknown;
  let polls = false;

  const shouldPoll = () => holding || alone;

  function settle(): void {
    const next = shouldPoll();
    if (next === polls) return;
    polls = next;
    options.onChange?.(next);
  }

  let attempting = false;

  async function attempt(): Promise<boolean> {
    attempting = true;
    const outcome = await lease.hold(ttlMs);
    attempting = false;
    if (stopped) return false;
    if (outcome.ok) {
      holding = outcome.value;
      alone = false;
    } else {
      // Redis does not answer: poll as a lone instance would, until it does.
      holding = false;
      alone = true;
    }
    settle();
    timer = timers.setTimeout(() => {
      timer = undefined;
      void attempt();
    }, everyMs);
    return shouldPoll();
  }

  // Redis going down makes this instance poll at once, not at its next attempt; Redis back, it
  // contends for the lease at once, so the instances stop polling side by side.
  const unlisten = link.onStateChange((up) => {
    if (stopped) return;
    if (!up) {
      holding = false;
      alone = true;
      settle();
    } else if (!attempting) {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      void attempt();
    }
  });

  return {
    shouldPoll: () => !stopped && shouldPoll(),
    started: attempt(),
    async stop() {
      if (stopped) return;
      stopped = true;
      unlisten();
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      holding = false;
      alone = false;
      settle();
      // Also when an attempt under way may just have taken it: only this instance's is deleted.
      await lease.release();
    },
  };
}
