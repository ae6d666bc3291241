import type { ServerConfig } from './config/server.js';
import {
  type BalanceMetrics,
  createMetrics,
  labelCache,
  type ProviderGaugeSource,
} from './metrics/registry.js';
import { getProcessTracing } from './tracing/active.js';
import type { SpanAttributes, TraceSpan, Tracing } from './tracing/types.js';
import { UpstreamError } from './upstream/errors.js';
import type { UpstreamResponse } from './upstream/http.js';
import {
  type CallOutcome,
  type CallWatch,
  type HeldCall,
  holdForJudgment,
  type ProviderObserver,
  type ReadScope,
  type UpstreamCallInfo,
  type UpstreamReadWatch,
} from './upstream/observer.js';

/**
 * One app's instrumentation: its metrics (a registry of its own) and the process's tracing, both
 * fed by the same hooks in the transport, the provider reader and the GraphQL server. With
 * neither on, a provider has no observer and a hot path pays one `undefined` check.
 */
export interface Instrumentation {
  /** Undefined when `server.metrics.enabled` is false. */
  readonly metrics: BalanceMetrics | undefined;
  /** Undefined unless the OTEL_* environment turned tracing on. */
  readonly tracing: Tracing | undefined;
  /** The observer of one (tenant, provider); undefined when nothing observes it. */
  provider(tenantId: string, providerId: string, kind: string): ProviderObserver | undefined;
  /** Counts one configuration reload (SIGHUP): applied, or refused with nothing changed. */
  configReloaded(outcome: ConfigReloadOutcome): void;
  /** The providers whose status the gauges show, read at every scrape. */
  watchProviders(providers: () => Iterable<ProviderGaugeSource>): void;
  /** Active subscriptions, read at every scrape. */
  watchSubscriptions(count: () => number): void;
  /** Whether the cluster's Redis answers, read at every scrape; call it only where `cluster` is set. */
  watchClusterRedis(up: () => boolean): void;
  /** Exports the spans ended so far, if tracing is on: before the process exits. */
  flush(): Promise<void>;
}

/** How a configuration reload ended (`balance_api_config_reloads_total{outcome}`). */
export type ConfigReloadOutcome = 'ok' | 'refused';

export interface InstrumentationOptions {
  /** `server.metrics`: `enabled` and `tenantLabel`; default metrics on, no tenant label. */
  metrics?: Partial<Pick<ServerConfig['metrics'], 'enabled' | 'tenantLabel'>> | undefined;
  /** Default: the process's tracing, on only when the OTEL_* environment says. */
  tracing?: Tracing | undefined;
}

/** The routes that log in (obtain a session): counted as logins as well as calls. */
const LOGIN_ROUTES: ReadonlySet<string> = new Set(['login', 'session']);

export function createInstrumentation(options: InstrumentationOptions = {}): Instrumentation {
  const metrics =
    options.metrics?.enabled === false
      ? undefined
      : createMetrics({ tenantLabel: options.metrics?.tenantLabel ?? false });
  const tracing = options.tracing ?? getProcessTracing();
  return {
    metrics,
    tracing,
    provider(tenantId, providerId, kind) {
      // Without the tenant label, another tenant's providers are never counted: metrics must not
      // list them. Traces go to the operator's collector, and show every tenant.
      const shown = metrics?.shows(tenantId) === true ? metrics : undefined;
      if (shown === undefined && tracing === undefined) return undefined;
      return createProviderObserver({ tenantId, providerId, kind, metrics: shown, tracing });
    },
    configReloaded(outcome) {
      metrics?.configReloads.inc({ outcome });
    },
    watchProviders: (providers) => metrics?.watchProviders(providers),
    watchSubscriptions: (count) => metrics?.watchSubscriptions(count),
    watchClusterRedis: (up) => metrics?.watchClusterRedis(up),
    flush: async () => {
      await tracing?.flush();
    },
  };
}

/** Counts one configuration reload, for code that holds the app's instrumentation, if any. */
export function countConfigReload(
  instrumentation: Instrumentation | undefined,
  outcome: ConfigReloadOutcome,
): void {
  instrumentation?.configReloaded(outcome);
}

interface ProviderObserverOptions {
  tenantId: string;
  providerId: string;
  kind: string;
  metrics: BalanceMetrics | undefined;
  tracing: Tracing | undefined;
}

/** A read's scope as this module keeps it: its span, for the calls' spans to hang under. */
interface ObservedScope extends ReadScope {
  readonly span: TraceSpan | undefined;
}

const READ_SPAN = 'provider read';

/** The contract code of a failure; anything else is a defect, as the client sees it. */
function codeOf(error: unknown): string {
  return error instanceof UpstreamError ? error.code : 'INTERNAL_SERVER_ERROR';
}

function createProviderObserver(options: ProviderObserverOptions): ProviderObserver {
  const { tenantId, providerId, kind, metrics, tracing } = options;
  const labels = metrics?.providerLabels(tenantId, providerId, kind);
  const identity: SpanAttributes = { tenant: tenantId, provider: providerId, kind };
  // Label objects are made once and reused: prom-client reads a reused object several times
  // faster than a fresh one, and a call or a read updates a few metrics each.
  const callLabels = labelCache((route: string, outcome: string) => ({
    ...labels,
    route,
    outcome,
  }));
  const routeLabels = labelCache((route: string) => ({ ...labels, route }));
  const loginLabels = labelCache((outcome: string) => ({ ...labels, outcome }));
  const sourceLabels = labelCache((source: string) => ({ ...labels, source }));

  function countCall(route: string, outcome: CallOutcome): void {
    if (metrics === undefined) return;
    metrics.upstreamRequests.inc(callLabels(route, outcome));
    if (LOGIN_ROUTES.has(route)) metrics.upstreamLogins.inc(loginLabels(outcome));
  }

  function call(
    info: UpstreamCallInfo,
    headers: Record<string, string>,
    scope?: ReadScope,
  ): CallWatch {
    const started = performance.now();
    const { url, route } = info;
    // The HTTP client conventions, from the URL's origin and the path template only: the query
    // may hold a credential, and headers and bodies never go into a span.
    const span = tracing?.clientSpan(
      `${info.method} ${info.template}`,
      {
        ...identity,
        route,
        'http.request.method': info.method,
        'server.address': url.hostname,
        'server.port': url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
        'url.scheme': url.protocol.slice(0, -1),
        'url.template': info.template,
        ...(info.attempt > 1 ? { 'http.request.resend_count': info.attempt - 1 } : {}),
      },
      (scope as ObservedScope | undefined)?.span,
      headers,
    );
    let endedAt: number | undefined;
    let status: number | undefined;
    let held: HeldCall | undefined;
    const observe = () => {
      endedAt = performance.now();
      metrics?.upstreamDuration.observe(routeLabels(route), (endedAt - started) / 1000);
    };
    const finish = (outcome: CallOutcome) => {
      countCall(route, outcome);
      if (span === undefined) return;
      span.setAttributes({ outcome });
      if (outcome !== 'ok') span.fail(outcome);
      span.end(endedAt);
    };
    return {
      answered(response: UpstreamResponse) {
        observe();
        status = response.status;
        span?.setAttributes({ 'http.response.status_code': status });
        let settled = false;
        const call: HeldCall = {
          get settled() {
            return settled;
          },
          settle(outcome, error) {
            if (settled) return;
            settled = true;
            finish(outcome);
            if (error !== undefined) scope?.counted(error);
          },
        };
        held = call;
        // Judged where the kind's error table reads the answer; what no table refuses is ok
        // once the read ends (or, outside a read, once the code that asked has run on).
        holdForJudgment(response, call);
        if (scope === undefined) setImmediate(() => call.settle('ok'));
        else scope.hold(call);
      },
      failed(error) {
        observe();
        finish(error instanceof UpstreamError ? error.code : 'UPSTREAM_UNAVAILABLE');
        scope?.counted(error);
      },
      superseded() {
        if (held === undefined || held.settled) return;
        // A transient status tried again: 429 rate limited, 502 to 504 unavailable.
        held.settle(status === 429 ? 'UPSTREAM_RATE_LIMITED' : 'UPSTREAM_UNAVAILABLE');
      },
    };
  }

  /** A read span that is over at once (the freshness window), or when `read` settles. */
  function readSpan(source: 'cache' | 'coalesced', poll: boolean, read?: Promise<unknown>): void {
    if (tracing === undefined) return;
    const span = tracing.internalSpan(READ_SPAN, { ...identity, source }, poll);
    if (read === undefined) {
      span.setAttributes({ outcome: 'ok' });
      span.end();
      return;
    }
    read.then(
      () => {
        span.setAttributes({ outcome: 'ok' });
        span.end();
      },
      (error: unknown) => {
        const code = codeOf(error);
        span.setAttributes({ outcome: code });
        span.fail(code);
        span.end();
      },
    );
  }

  function upstream(poll: boolean): UpstreamReadWatch {
    const started = performance.now();
    const span = tracing?.internalSpan(READ_SPAN, identity, poll);
    const held: HeldCall[] = [];
    const counted = new Set<unknown>();
    let callsDone = false;
    const scope: ObservedScope = {
      span,
      hold(call) {
        // An answer after the adapter gave up waiting (a login others still await): judged once
        // whoever asked for it has read it.
        if (callsDone) setImmediate(() => call.settle('ok'));
        else held.push(call);
      },
      counted(error) {
        counted.add(error);
      },
    };
    return {
      scope,
      callsDone(error) {
        callsDone = true;
        // A body that broke the contract after its table had accepted it: the last such answer.
        if (
          error instanceof UpstreamError &&
          error.code === 'UPSTREAM_BAD_RESPONSE' &&
          !counted.has(error)
        ) {
          const last = held.findLast((call) => !call.settled);
          last?.settle('UPSTREAM_BAD_RESPONSE', error);
        }
        for (const call of held) call.settle('ok');
      },
      ended(source, error) {
        if (labels !== undefined && metrics !== undefined) {
          metrics.providerReads.inc(sourceLabels(source));
          metrics.providerReadDuration.observe(labels, (performance.now() - started) / 1000);
        }
        if (span === undefined) return;
        const outcome = error === undefined ? 'ok' : codeOf(error);
        span.setAttributes({ source, outcome });
        // A stale answer is an answer: the failure behind it is its outcome, not an error.
        if (error !== undefined && source === 'upstream') span.fail(outcome);
        span.end();
      },
    };
  }

  return {
    call,
    cached() {
      metrics?.providerReads.inc(sourceLabels('cache'));
      readSpan('cache', false);
    },
    joined(read, poll) {
      metrics?.providerReads.inc(sourceLabels('coalesced'));
      readSpan('coalesced', poll, read);
    },
    upstream,
  };
}
