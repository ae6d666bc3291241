import type { Dispatcher } from 'undici';
import type { AppConfig } from './config/load.js';
import type { ProviderConfig } from './config/providers.js';
import type { Logger } from './logger.js';
import type { ProviderReadEvent, ProviderStatusView } from './provider-events.js';
import { createProviderReader, type ReadProvider } from './provider-reader.js';
import { createProviderStatusTracker } from './provider-status.js';
import type { ProviderAdapter } from './providers/adapter.js';
import type { ProviderKind } from './providers/kinds.js';
import { createAdapter, DEFAULT_PROVIDER_NAMES } from './providers/registry.js';
import { createProviderCircuitBreaker } from './upstream/circuit-breaker.js';
import { createUpstreamDispatcher } from './upstream/http.js';
import { TokenCacheByTenantAndProvider } from './upstream/token-cache.js';

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
}

export interface TenantRuntime {
  id: string;
  /** In configuration order. */
  providers: ProviderRuntime[];
  byId: ReadonlyMap<string, ProviderRuntime>;
}

/** What outlives requests: tenants, their adapters, the token cache and the upstream pool. */
export interface AppRuntime {
  tenants: ReadonlyMap<string, TenantRuntime>;
  tokens: TokenCacheByTenantAndProvider;
  dispatcher: Dispatcher;
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
}

export function createAppRuntime(options: CreateAppRuntimeOptions): AppRuntime {
  const ownDispatcher = options.dispatcher === undefined;
  const dispatcher = options.dispatcher ?? createUpstreamDispatcher();
  const now = options.now ?? Date.now;
  const tokens = new TokenCacheByTenantAndProvider({ now });
  const tenants = new Map<string, TenantRuntime>();
  for (const tenant of options.config.tenants) {
    const providers = tenant.providers.map((config: ProviderConfig): ProviderRuntime => {
      const adapter = createAdapter({
        tenantId: tenant.id,
        config,
        dispatcher,
        tokens: tokens.slot(tenant.id, config.id),
        now,
        log: options.log?.child({ tenantId: tenant.id }),
      });
      const status = createProviderStatusTracker();
      const breaker = createProviderCircuitBreaker({
        providerId: config.id,
        ...config.circuitBreaker,
        now,
        onOpenChange: (open, probeSucceeded) => status.setCircuitOpen(open, probeSucceeded),
      });
      return {
        tenantId: tenant.id,
        id: config.id,
        kind: config.kind,
        name: config.name ?? DEFAULT_PROVIDER_NAMES[config.kind],
        adapter,
        read: createProviderReader({ adapter, breaker, config, now, status }),
        status: status.view,
        onRead: status.onRead,
        onStatusChange: status.onStatusChange,
      };
    });
    tenants.set(tenant.id, {
      id: tenant.id,
      providers,
      byId: new Map(providers.map((provider) => [provider.id, provider])),
    });
  }
  return {
    tenants,
    tokens,
    dispatcher,
    // Destroyed, not closed: by now no request waits for an upstream read, and close() would
    // wait for a read still under way (up to its provider's timeoutMs) before the process exits.
    close: async () => {
      if (ownDispatcher) await dispatcher.destroy();
    },
  };
}
