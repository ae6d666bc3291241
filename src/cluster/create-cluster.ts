import type { ClusterConfig } from '../config/cluster.js';
import type { ProviderConfig } from '../config/providers.js';
import type { Logger } from '../logger.js';
import type { ProviderStatusTracker } from '../provider-status.js';
import type { Timers } from '../timers.js';
import { type ClusterProviderRef, createProviderRef, type ProviderIdentity } from './keys.js';
import {
  createPollingLease,
  type LeaseKeeper,
  type PollingLease,
  startLeaseKeeper,
} from './polling-lease.js';
import {
  createProviderClusterLink,
  createSessionSharing,
  createSharedReadPath,
  observeRateLimits,
  type ProviderClusterHooks,
  providerIdentity,
} from './provider-hooks.js';
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
  /**
   * What a provider runtime of this instance is given to act as one with the other instances:
   * its session (unless `merchant`), its reads and its polling go through the cluster, and its
   * own reads are told to the other instances.
   */
  forProvider(options: ForProviderOptions): ProviderClusterHooks;
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
  keepLease(options?: { timers?: Timers; onChange?: (shouldPoll: boolean) => void }): LeaseKeeper;
}

export interface ForProviderOptions {
  tenantId: string;
  /** The provider's resolved configuration (its secrets go only into keyed digests). */
  config: ProviderConfig;
  /** Its status: the other instances' reads are recorded there, its own told to them. */
  status: ProviderStatusTracker;
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
  function provider(
    tenantId: string,
    providerId: string,
    identity: ProviderIdentity,
  ): ClusterProvider {
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
  }

  return {
    link,
    codec,
    events,
    leaseMs: config.leaseMs,
    provider,
    forProvider({ tenantId, config: providerConfig, status }) {
      const shared = provider(tenantId, providerConfig.id, providerIdentity(providerConfig));
      // Every read this instance makes reaches the others' subscribers (sent only while up).
      status.onOwnRead((event) => {
        if (link.isUp()) void events.publish(shared.ref, event);
      });
      return {
        sessions: sessionIsPortable(providerConfig.kind)
          ? createSessionSharing({
              sessions: shared.sessions,
              now,
              maxWaitMs: providerConfig.timeoutMs,
            })
          : undefined,
        reads: createSharedReadPath({
          link,
          codec,
          ref: shared.ref,
          reads: shared.reads,
          hold: shared.hold,
          now,
          config: providerConfig,
        }),
        observe: (inner) =>
          observeRateLimits(inner, (seconds) => {
            void shared.hold.holdUntil(now() + seconds * 1000);
          }),
        link: createProviderClusterLink({
          ref: shared.ref,
          events,
          status,
          keepLease: (keeper) => shared.keepLease(keeper),
        }),
      };
    },
    close: () => link.close(),
  };
}

/**
 * Whether a kind's sessions may be shared by the instances: all but `merchant`, whose sessions
 * are bound to the address of the client that opened them (PROVIDERS.md).
 */
function sessionIsPortable(kind: string): boolean {
  return kind !== 'merchant';
}
