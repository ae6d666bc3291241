import { isDeepStrictEqual } from 'node:util';
import type { Dispatcher } from 'undici';
import type { Cluster } from './cluster/create-cluster.js';
import type { AppConfig } from './config/load.js';
import type { ProviderConfig } from './config/providers.js';
import type { TenantConfig } from './config/tenants.js';
import type { Logger } from './logger.js';
import { createInstrumentation, type Instrumentation } from './observe.js';
import type {
  ProviderClusterLink,
  ProviderReadEvent,
  ProviderStatusView,
} from './provider-events.js';
import { createProviderReader, type ReadProvider } from './provider-reader.js';
import { createProviderStatusTracker } from './provider-status.js';
import type { ProviderAdapter } from './providers/adapter.js';
import type { ProviderKind } from './providers/kinds.js';
import { createAdapter, DEFAULT_PROVIDER_NAMES } from './providers/registry.js';
import { createProviderCircuitBreaker } from './upstream/circuit-breaker.js';
import { createUpstreamDispatcher } from './upstream/http.js';
import { TokenCacheByTenantAndProvider, type TokenSlot } from './upstream/token-cache.js';

/** One configured provider of one tenant, with its adapter. No secret is reachable from here. */
export interface ProviderRuntime {
  tenantId: string;
  id: string;
  kind: ProviderKind;
  name: string;
  adapter: ProviderAdapter;
  /**
   * One upstream read through the adapter, bounded by the provider's `timeoutMs` (and any sooner
   * deadline of the request), behind its circuit breaker. `{ ...query, fresh: true }` skips the
   * freshness window but joins a read already under way.
   */
  read: ReadProvider;
  /** Its status, from memory: never calls the upstream. */
  status(): ProviderStatusView;
  /**
   * Called once per upstream read of it that settles, whoever started it (not per caller that
   * joined it or was served from the freshness window), and for a stale answer (`stale: true`).
   * Returns the unsubscribe.
   */
  onRead(listener: (event: ProviderReadEvent) => void): () => void;
  /** Called when its `state` or `circuitOpen` changes. Returns the unsubscribe. */
  onStatusChange(listener: (status: ProviderStatusView) => void): () => void;
  /** Its `pollIntervalMs` (the live hub's default interval); absent: the hub's default, 30 000. */
  pollIntervalMs?: number;
  /**
   * Its part in the cluster (`cluster` in the configuration): the polling lease and the other
   * instances' reads. Absent without a cluster.
   */
  cluster?: ProviderClusterLink;
}

export interface TenantRuntime {
  id: string;
  /** In configuration order. */
  providers: ProviderRuntime[];
  byId: ReadonlyMap<string, ProviderRuntime>;
}

/** The session token of each (tenant, provider) now configured. */
export interface TokenSlots {
  /**
   * The slot of the provider's current runtime (a reload that changes the provider starts it a
   * new one); a slot of its own for a provider that is not configured.
   */
  slot(tenantId: string, providerId: string): TokenSlot;
}

/** What a reload did to the providers, each one once, in configuration order. */
export interface RuntimeChanges {
  /** New providers (those of new tenants included). */
  added: ProviderRuntime[];
  /** Providers whose resolved configuration differs: the runtime replaced, and its replacement. */
  changed: { previous: ProviderRuntime; next: ProviderRuntime }[];
  /** Providers no longer configured (those of removed tenants included). */
  removed: ProviderRuntime[];
  /** Providers kept as they were: the same runtime, session, circuit, caches and status. */
  unchanged: ProviderRuntime[];
}

/** What outlives requests: tenants, their adapters, the token cache and the upstream pool. */
export interface AppRuntime {
  /**
   * The tenants now. A reload replaces the map; a request keeps the tenant (and providers) it
   * started with, so its reads finish on them.
   */
  readonly tenants: ReadonlyMap<string, TenantRuntime>;
  tokens: TokenSlots;
  dispatcher: Dispatcher;
  /** Metrics and traces of this app: its providers' calls and reads, its server's requests. */
  readonly instrumentation: Instrumentation;
  /**
   * Takes the tenants of a new, validated configuration: a provider whose resolved configuration
   * (secrets included) is identical keeps its runtime; a changed one gets a new runtime (a new
   * session, circuit, caches and status); a removed one is dropped. New requests see the result.
   */
  reload(tenants: readonly TenantConfig[]): RuntimeChanges;
  /** Ends the upstream pool at once, with any read still under way: call it after the drain. */
  close(): Promise<void>;
}

export interface CreateAppRuntimeOptions {
  config: AppConfig;
  /** Default: a new keep-alive pool, closed with the runtime. */
  dispatcher?: Dispatcher;
  /** The clock for token lifetimes; default Date.now. */
  now?: () => number;
  log?: Logger | undefined;
  /**
   * Metrics and traces; default: metrics as `server.metrics` says, traces when the OTEL_*
   * environment turned them on.
   */
  instrumentation?: Instrumentation | undefined;
  /**
   * The cluster this instance is part of (made from `config.cluster` by the caller, which loads
   * its code only then); closed with the runtime. Default none: every state in-process.
   */
  cluster?: Cluster | undefined;
}

/** A provider's runtime and what it was built from (its secrets: never handed out). */
interface ProviderEntry {
  runtime: ProviderRuntime;
  config: ProviderConfig;
  tokens: TokenSlot;
}

export function createAppRuntime(options: CreateAppRuntimeOptions): AppRuntime {
  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createUpstreamDispatcher();
  const now = options.now ?? Date.now;
  const instrumentation =
    options.instrumentation ?? createInstrumentation({ metrics: options.config.server.metrics });
  /** Slots asked for providers that are not configured. */
  const unconfigured = new TokenCacheByTenantAndProvider({ now });
  /** By tenant, then provider id. */
  let entries = new Map<string, Map<string, ProviderEntry>>();
  let tenants = new Map<string, TenantRuntime>();

  function createProvider(tenantId: string, config: ProviderConfig): ProviderEntry {
    // A cache per provider runtime: a changed provider starts with no session, and the one it
    // replaces keeps its own for the reads still under way.
    const tokens = new TokenCacheByTenantAndProvider({ now }).slot(tenantId, config.id);
    const observer = instrumentation.provider(tenantId, config.id, config.kind);
    const status = createProviderStatusTracker();
    // With a cluster: one session, shared reads, rate-limit holds and one poller for all the
    // instances.
    const shared = options.cluster?.forProvider({ tenantId, config, status });
    if (shared?.sessions !== undefined) tokens.share(shared.sessions);
    const adapter = createAdapter({
      tenantId,
      config,
      dispatcher,
      tokens,
      now,
      log: options.log?.child({ tenantId }),
      // Its calls' 429s hold the cluster, also those the transport waits out.
      observer: shared === undefined ? observer : shared.observe(observer),
    });
    const breaker = createProviderCircuitBreaker({
      providerId: config.id,
      ...config.circuitBreaker,
      now,
      onOpenChange: (open, probeSucceeded) => status.setCircuitOpen(open, probeSucceeded),
    });
    const runtime: ProviderRuntime = {
      tenantId,
      id: config.id,
      kind: config.kind,
      name: config.name ?? DEFAULT_PROVIDER_NAMES[config.kind],
      adapter,
      read: createProviderReader({
        adapter,
        breaker,
        config,
        now,
        status,
        observer,
        shared: shared?.reads,
      }),
      status: status.view,
      onRead: status.onRead,
      onStatusChange: status.onStatusChange,
      pollIntervalMs: config.pollIntervalMs,
      ...(shared === undefined ? {} : { cluster: shared.link }),
    };
    return { runtime, config, tokens };
  }

  function reload(configs: readonly TenantConfig[]): RuntimeChanges {
    const changes: RuntimeChanges = { added: [], changed: [], removed: [], unchanged: [] };
    const nextEntries = new Map<string, Map<string, ProviderEntry>>();
    const nextTenants = new Map<string, TenantRuntime>();
    for (const tenant of configs) {
      const before = entries.get(tenant.id);
      const byId = new Map<string, ProviderEntry>();
      for (const config of tenant.providers) {
        const previous = before?.get(config.id);
        let entry: ProviderEntry;
        // Resolved values are compared: a secret file rotated under the same reference changes it.
        if (previous !== undefined && isDeepStrictEqual(previous.config, config)) {
          entry = previous;
          changes.unchanged.push(entry.runtime);
        } else {
          entry = createProvider(tenant.id, config);
          if (previous === undefined) changes.added.push(entry.runtime);
          else changes.changed.push({ previous: previous.runtime, next: entry.runtime });
        }
        byId.set(config.id, entry);
      }
      nextEntries.set(tenant.id, byId);
      const providers = [...byId.values()].map((entry) => entry.runtime);
      nextTenants.set(tenant.id, {
        id: tenant.id,
        providers,
        byId: new Map(providers.map((provider) => [provider.id, provider])),
      });
    }
    for (const [tenantId, before] of entries) {
      for (const [id, entry] of before) {
        if (!nextEntries.get(tenantId)?.has(id)) changes.removed.push(entry.runtime);
      }
    }
    // One swap: a request sees the tenants before or after, never a mix.
    entries = nextEntries;
    tenants = nextTenants;
    return changes;
  }

  reload(options.config.tenants);
  const { cluster } = options;
  // balance_api_cluster_redis_up: only where there is a cluster.
  if (cluster !== undefined) instrumentation.watchClusterRedis(() => cluster.link.isUp());
  return {
    get tenants() {
      return tenants;
    },
    tokens: {
      slot: (tenantId, providerId) =>
        entries.get(tenantId)?.get(providerId)?.tokens ?? unconfigured.slot(tenantId, providerId),
    },
    dispatcher,
    instrumentation,
    reload,
    // Destroyed, not closed: by now no request waits for an upstream read, and close() would
    // wait for a read still under way (up to its provider's timeoutMs) before the process exits.
    close: async () => {
      if (ownDispatcher) await dispatcher.destroy();
      // After the drain: the last reads have been shared, the lease is given up.
      cluster?.close();
      // The last requests' spans, before the process exits.
      await instrumentation.flush();
    },
  };
}
