import type { ClusterConfig } from '../config/cluster.js';
import type { Logger } from '../logger.js';
import { type ClusterProviderRef, createProviderRef, type ProviderIdentity } from './keys.js';
import {
  createPollingLease,
  type LeaseKeeper,
  type LeaseTimers,
  type PollingLease,
  startLeaseKeeper,
} from './polling-lease.js';
import { createRateLimitHold, type RateLimitHold } from './rate-limit-hold.js';
import { createReadEventBus, type ReadEventBus } from './read-events.js';
import { createRedisLink, type RedisLink } from './redis-link.js';
import { createSharedReads, type SharedReads } from './shared-reads.js';
import { createSharedSessions, type SharedSessions } from './shared-sessions.js';
import { createValueCodec, type ValueCodec } from './value-codec.js';

/**
 * What `cluster` in the configuration makes: one Redis link per process and, per (tenant,
 * provider), its shared session, reads, rate-limit hold and polling lease. Loaded only when the
 * configuration has a `cluster` section; without it, nothing here is imported.
 */
export interface Cluster {
  readonly link: RedisLink;
  readonly codec: ValueCodec;
  /** Read events of every provider across the instances. */
  readonly events: ReadEventBus;
  /** `cluster.leaseMs`. */
  readonly leaseMs: number;
  /** One (tenant, provider)'s shared state, keyed by the digest of its identity. */
  provider(tenantId: string, providerId: string, identity: ProviderIdentity): ClusterProvider;
  /** Closes the Redis connections at once (after the drain). */
  close(): void;
}

export interface ClusterProvider {
  readonly ref: ClusterProviderRef;
  readonly sessions: SharedSessions;
  readonly reads: SharedReads;
  readonly hold: RateLimitHold;
  readonly lease: PollingLease;
  /** Keeps the lease while this instance has subscribers of the provider; see LeaseKeeper. */
  keepLease(options?: {
    timers?: LeaseTimers;
    onChange?: (shouldPoll: boolean) => void;
  }): LeaseKeeper;
}

export interface CreateClusterOptions {
  log?: Logger | undefined;
  /** The app's clock (token lifetimes, read ages, holds); default Date.now. */
  now?: () => number;
  /** How often a down link checks that Redis answers again (ms); default 1000. */
  probeIntervalMs?: number;
  /** The longest wait between reconnection attempts (ms); default 2000. */
  maxReconnectDelayMs?: number;
}

export function createCluster(config: ClusterConfig, options: CreateClusterOptions = {}): Cluster {
  const now = options.now ?? Date.now;
  const link = createRedisLink({
    url: config.redis.url,
    timeoutMs: config.redis.timeoutMs,
    log: options.log,
    ...(options.probeIntervalMs === undefined ? {} : { probeIntervalMs: options.probeIntervalMs }),
    ...(options.maxReconnectDelayMs === undefined
      ? {}
      : { maxReconnectDelayMs: options.maxReconnectDelayMs }),
  });
  const codec = createValueCodec(config.tokenKey);
  const events = createReadEventBus({ link, codec });
  return {
    link,
    codec,
    events,
    leaseMs: config.leaseMs,
    provider(tenantId, providerId, identity) {
      const ref = createProviderRef(config.keyPrefix, codec, tenantId, providerId, identity);
      const lease = createPollingLease(link, ref);
      return {
        ref,
        sessions: createSharedSessions({ link, codec, ref, now }),
        reads: createSharedReads({ link, codec, ref, now }),
        hold: createRateLimitHold({ link, ref, now }),
        lease,
        keepLease: (keeper = {}) =>
          startLeaseKeeper({ lease, link, leaseMs: config.leaseMs, ...keeper }),
      };
    },
    close: () => link.close(),
  };
}

/**
 * Whether a kind's sessions may be shared by the instances: all but `merchant`, whose sessions
 * are bound to the address of the client that opened them (PROVIDERS.md).
 */
export function sessionIsPortable(kind: string): boolean {
  return kind !== 'merchant';
}
