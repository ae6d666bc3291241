import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import { DEFAULT_TENANT_ID } from '../config/tenants.js';
import type { ProviderStatusView } from '../provider-events.js';
import { CellCounter, CellHistogram, type CounterCell, type HistogramCell } from './cells.js';

/**
 * The metrics of one app (CONTRACT.md "Operations"), in a registry of its own: tests run several
 * apps in one process, and each scrape shows one app. Labels are bounded: provider ids and kinds
 * from the configuration, routes (the kinds' `paths` keys), contract codes, HTTP statuses and at
 * most MAX_OPERATION_NAMES operation names. No label or value ever holds a secret.
 */

/**
 * prom-client's classes, from its own files rather than its index: the index loads its default
 * metrics, whose CPU counters require @opentelemetry/api (for exemplars), and nothing of
 * OpenTelemetry may be loaded while tracing is off. The package has no `exports` map; these are
 * the files its index re-exports.
 */
const require = createRequire(import.meta.url);
const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
type Registry = PromClient.Registry;
type Counter<T extends string> = PromClient.Counter<T>;

/**
 * prom-client's default metrics (`collectDefaultMetrics`), each from its own file, but for the
 * CPU counters (see `registerCpuCounters`): the same names, help and values.
 */
const DEFAULT_METRIC_FILES = [
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
  'gc',
];

function registerDefaultMetrics(registry: Registry): void {
  const config = { eventLoopMonitoringPrecision: 10 };
  for (const name of DEFAULT_METRIC_FILES) {
    // As prom-client: where Node cannot list its active resources, that metric is left out.
    if (name === 'processResources' && typeof process.getActiveResourcesInfo !== 'function') {
      continue;
    }
    const register = require(`prom-client/lib/metrics/${name}.js`) as (
      registry: Registry,
      config: object,
    ) => void;
    register(registry, config);
  }
  registerCpuCounters(registry);
}

/**
 * prom-client's `process_cpu_*_seconds_total` without its exemplar support (which is what loads
 * @opentelemetry/api): the CPU time since the process started, read at each scrape.
 */
function registerCpuCounters(registry: Registry): void {
  const registers = [registry];
  let last = { user: 0, system: 0 };
  const system = new Counter({
    name: 'process_cpu_system_seconds_total',
    help: 'Total system CPU time spent in seconds.',
    registers,
  });
  const total = new Counter({
    name: 'process_cpu_seconds_total',
    help: 'Total user and system CPU time spent in seconds.',
    registers,
  });
  const user = new Counter({
    name: 'process_cpu_user_seconds_total',
    help: 'Total user CPU time spent in seconds.',
    registers,
    // One collect sets all three, as prom-client's does.
    collect() {
      const now = process.cpuUsage();
      const userMicros = now.user - last.user;
      const systemMicros = now.system - last.system;
      last = now;
      user.inc(userMicros / 1e6);
      system.inc(systemMicros / 1e6);
      total.inc((userMicros + systemMicros) / 1e6);
    },
  });
}

/** Distinct operation names labelled; later ones are counted as `other`. */
export const MAX_OPERATION_NAMES = 100;

/** One provider as the collect-time gauges read it. */
export interface ProviderGaugeSource {
  tenantId: string;
  id: string;
  kind: string;
  status(): Pick<ProviderStatusView, 'state' | 'circuitOpen'>;
}

export type ProviderLabels = Record<'provider' | 'kind', string> & { tenant?: string };

export interface MetricsOptions {
  /** A `tenant` label on provider metrics, and every tenant's providers; default false. */
  tenantLabel?: boolean;
}

export interface BalanceMetrics {
  /** The app's own registry (Node's process metrics are added at the first scrape). */
  readonly registry: Registry;
  readonly contentType: string;
  /** Whether a provider of `tenantId` is shown: every tenant with `tenantLabel`, else the default one. */
  shows(tenantId: string): boolean;
  /** The labels of one provider, `tenant` included with `tenantLabel`. */
  providerLabels(tenantId: string, providerId: string, kind: string): ProviderLabels;
  /**
   * One GraphQL request answered with `status` after `seconds`, under its operation name's label
   * (itself, `anonymous`, or `other` past the first 100): each series' cell taken once and kept.
   */
  countRequest(operationName: string | undefined, status: number, seconds: number): void;
  // Counted on the request path: cells (see cells.ts), each series' cell taken once and kept.
  readonly upstreamRequests: CellCounter;
  readonly upstreamDuration: CellHistogram;
  readonly upstreamLogins: CellCounter;
  readonly providerReads: CellCounter;
  readonly providerReadDuration: CellHistogram;
  readonly configReloads: Counter<'outcome'>;
  /** The providers the status gauges show, read at every scrape (a reload changes them). */
  watchProviders(providers: () => Iterable<ProviderGaugeSource>): void;
  /** Active subscriptions, read at every scrape. */
  watchSubscriptions(count: () => number): void;
  /** Whether the cluster's Redis answers, read at every scrape: only where `cluster` is set. */
  watchClusterRedis(up: () => boolean): void;
  /** The Prometheus text of every metric, Node's process metrics included. */
  render(): Promise<string>;
}

/** Seconds, from 5 ms to the longest request timeout worth telling apart. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

export function createMetrics(options: MetricsOptions = {}): BalanceMetrics {
  const tenantLabel = options.tenantLabel ?? false;
  const registry = new Registry();
  const registers = [registry];
  const providerLabelNames = tenantLabel ? ['tenant', 'provider', 'kind'] : ['provider', 'kind'];
  let providers: () => Iterable<ProviderGaugeSource> = () => [];
  let subscriptions: () => number = () => 0;
  let processMetrics = false;
  const operations = new Set<string>();

  const graphqlRequests = new CellCounter({
    name: 'balance_api_graphql_requests_total',
    help: 'GraphQL requests answered, by operation name and HTTP status.',
    labelNames: ['operation', 'status'],
    registry,
  });
  const graphqlDuration = new CellHistogram({
    name: 'balance_api_graphql_request_duration_seconds',
    help: 'Time from a GraphQL request to its response, by operation name.',
    labelNames: ['operation'],
    buckets: DURATION_BUCKETS,
    registry,
  });
  /** By operation label (at most 102), then by the status as a number: no key built per request. */
  const requestCells = new Map<
    string,
    { duration: HistogramCell; byStatus: Map<number, CounterCell> }
  >();
  const operationLabel = (name: string | undefined): string => {
    if (name === undefined) return 'anonymous';
    if (operations.has(name)) return name;
    if (operations.size >= MAX_OPERATION_NAMES) return 'other';
    operations.add(name);
    return name;
  };

  const shows = (tenantId: string) => tenantLabel || tenantId === DEFAULT_TENANT_ID;
  const providerLabels = (tenantId: string, provider: string, kind: string): ProviderLabels =>
    tenantLabel ? { tenant: tenantId, provider, kind } : { provider, kind };
  const shown = function* () {
    for (const provider of providers()) if (shows(provider.tenantId)) yield provider;
  };

  const metrics: BalanceMetrics = {
    registry,
    contentType: registry.contentType,
    shows,
    providerLabels,
    countRequest(operationName, status, seconds) {
      const operation = operationLabel(operationName);
      let cells = requestCells.get(operation);
      if (cells === undefined) {
        cells = { duration: graphqlDuration.cell({ operation }), byStatus: new Map() };
        requestCells.set(operation, cells);
      }
      let counted = cells.byStatus.get(status);
      if (counted === undefined) {
        counted = graphqlRequests.cell({ operation, status: String(status) });
        cells.byStatus.set(status, counted);
      }
      counted.value += 1;
      cells.duration.observe(seconds);
    },
    upstreamRequests: new CellCounter({
      name: 'balance_api_upstream_requests_total',
      help: 'Upstream calls (each try), by provider, route and outcome (ok or the contract code).',
      labelNames: [...providerLabelNames, 'route', 'outcome'],
      registry,
    }),
    upstreamDuration: new CellHistogram({
      name: 'balance_api_upstream_request_duration_seconds',
      help: 'Time from sending an upstream call (each try) to the end of its answer or failure.',
      labelNames: [...providerLabelNames, 'route'],
      buckets: DURATION_BUCKETS,
      registry,
    }),
    upstreamLogins: new CellCounter({
      name: 'balance_api_upstream_logins_total',
      help: 'Upstream logins (session requests), by provider and outcome.',
      labelNames: [...providerLabelNames, 'outcome'],
      registry,
    }),
    providerReads: new CellCounter({
      name: 'balance_api_provider_reads_total',
      help: 'Provider reads, by where the answer came from: upstream, coalesced, cache or stale.',
      labelNames: [...providerLabelNames, 'source'],
      registry,
    }),
    providerReadDuration: new CellHistogram({
      name: 'balance_api_provider_read_duration_seconds',
      help: 'Time of a provider read that went upstream (its login, calls and retries), by provider.',
      labelNames: providerLabelNames,
      buckets: DURATION_BUCKETS,
      registry,
    }),
    configReloads: new Counter({
      name: 'balance_api_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by outcome: ok (applied) or refused (nothing changed).',
      labelNames: ['outcome'],
      registers,
    }),
    watchProviders(source) {
      providers = source;
    },
    watchSubscriptions(count) {
      subscriptions = count;
    },
    watchClusterRedis(up) {
      if (registry.getSingleMetric('balance_api_cluster_redis_up') !== undefined) return;
      new Gauge({
        name: 'balance_api_cluster_redis_up',
        help: "1 while the cluster's Redis answers, 0 when it does not.",
        registers,
        collect() {
          this.set(up() ? 1 : 0);
        },
      });
    },
    async render() {
      // Node's process metrics start with the first scrape: an app never scraped (a test's, a
      // benchmark's) runs no event-loop monitor for them.
      if (!processMetrics) {
        processMetrics = true;
        registerDefaultMetrics(registry);
      }
      return registry.metrics();
    },
  };

  // Both outcomes from the start, so that a rate of refused reloads reads 0 rather than nothing.
  metrics.configReloads.inc({ outcome: 'ok' }, 0);
  metrics.configReloads.inc({ outcome: 'refused' }, 0);

  new Gauge({
    name: 'balance_api_provider_up',
    help: "1 when a provider's last read succeeded, 0 when it failed or its circuit is open; no sample before its first read.",
    labelNames: providerLabelNames,
    registers,
    collect() {
      this.reset();
      for (const provider of shown()) {
        const { state } = provider.status();
        if (state === 'UNKNOWN') continue;
        this.set(
          providerLabels(provider.tenantId, provider.id, provider.kind),
          state === 'UP' ? 1 : 0,
        );
      }
    },
  });
  new Gauge({
    name: 'balance_api_circuit_open',
    help: "1 while a provider's circuit breaker is open (reads fail fast), else 0.",
    labelNames: providerLabelNames,
    registers,
    collect() {
      this.reset();
      for (const provider of shown()) {
        this.set(
          providerLabels(provider.tenantId, provider.id, provider.kind),
          provider.status().circuitOpen ? 1 : 0,
        );
      }
    },
  });
  new Gauge({
    name: 'balance_api_subscriptions',
    help: 'Active GraphQL subscriptions (not connections).',
    registers,
    collect() {
      this.set(subscriptions());
    },
  });
  return metrics;
}
