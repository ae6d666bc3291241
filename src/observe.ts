import type { ServerConfig } from './config/server.js';
import type { CounterCell, HistogramCell } from './metrics/cells.js';
import {
  type BalanceMetrics,
  createMetrics,
  type ProviderGaugeSource,
  type ProviderLabels,
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
  type ReadSource,
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

interface ProviderObserverOptions {
  tenantId: string;
  providerId: string;
  kind: string;
  metrics: BalanceMetrics | undefined;
  tracing: Tracing | undefined;
}

const READ_SPAN = 'provider read';
/** The call shapes one provider keeps (its routes, by method and host). */
const MAX_CALL_SHAPES = 32;

/** What every try of one kind of call shares in its span. */
interface CallShape {
  method: string;
  route: string;
  host: string;
  name: string;
  attributes: SpanAttributes;
}

/** The contract code of a failure; anything else is a defect, as the client sees it. */
function codeOf(error: unknown): string {
  return error instanceof UpstreamError ? error.code : 'INTERNAL_SERVER_ERROR';
}

/**
 * One provider's series, each cell taken once and then counted in place: the request path pays a
 * map lookup and an addition per update.
 */
class ProviderCells {
  private readonly calls = new Map<string, Map<string, CounterCell>>();
  private readonly logins = new Map<string, CounterCell>();
  private readonly durations = new Map<string, HistogramCell>();
  private readonly reads = new Map<ReadSource, CounterCell>();
  readonly readDuration: HistogramCell;

  constructor(
    private readonly metrics: BalanceMetrics,
    private readonly labels: ProviderLabels,
  ) {
    this.readDuration = metrics.providerReadDuration.cell(labels);
  }

  /** One call counted under `outcome`, and as a login where its route logs in. */
  countCall(route: string, outcome: CallOutcome): void {
    let byOutcome = this.calls.get(route);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.calls.set(route, byOutcome);
    }
    let cell = byOutcome.get(outcome);
    if (cell === undefined) {
      cell = this.metrics.upstreamRequests.cell({ ...this.labels, route, outcome });
      byOutcome.set(outcome, cell);
    }
    cell.value += 1;
    if (!LOGIN_ROUTES.has(route)) return;
    let login = this.logins.get(outcome);
    if (login === undefined) {
      login = this.metrics.upstreamLogins.cell({ ...this.labels, outcome });
      this.logins.set(outcome, login);
    }
    login.value += 1;
  }

  callDuration(route: string, seconds: number): void {
    let cell = this.durations.get(route);
    if (cell === undefined) {
      cell = this.metrics.upstreamDuration.cell({ ...this.labels, route });
      this.durations.set(route, cell);
    }
    cell.observe(seconds);
  }

  countRead(source: ReadSource): void {
    let cell = this.reads.get(source);
    if (cell === undefined) {
      cell = this.metrics.providerReads.cell({ ...this.labels, source });
      this.reads.set(source, cell);
    }
    cell.value += 1;
  }
}

/** What every call and read of one provider shares. */
interface Observed {
  cells: ProviderCells | undefined;
  tracing: Tracing | undefined;
  identity: SpanAttributes;
}

/** One try of one upstream call: timed when it ends, counted once its answer is judged. */
class ObservedCall implements CallWatch, HeldCall {
  settled = false;
  private endedAt: number | undefined;
  private status: number | undefined;
  private readonly started = performance.now();

  constructor(
    private readonly observed: Observed,
    private readonly route: string,
    private readonly scope: ObservedRead | undefined,
    private readonly span: TraceSpan | undefined,
  ) {}

  private end(): void {
    this.endedAt = performance.now();
    this.observed.cells?.callDuration(this.route, (this.endedAt - this.started) / 1000);
  }

  answered(response: UpstreamResponse): void {
    this.end();
    this.status = response.status;
    // Judged where the kind's error table reads the answer; what no table refuses is ok once the
    // read ends (or, outside a read, once the code that asked has run on).
    holdForJudgment(response, this);
    if (this.scope === undefined) setImmediate(() => this.settle('ok'));
    else this.scope.hold(this);
  }

  failed(error: unknown): void {
    this.end();
    this.settle(error instanceof UpstreamError ? error.code : 'UPSTREAM_UNAVAILABLE', error);
  }

  superseded(): void {
    if (this.status === undefined || this.settled) return;
    // A transient status tried again: 429 rate limited, 502 to 504 unavailable.
    this.settle(this.status === 429 ? 'UPSTREAM_RATE_LIMITED' : 'UPSTREAM_UNAVAILABLE');
  }

  settle(outcome: CallOutcome, error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.observed.cells?.countCall(this.route, outcome);
    if (error !== undefined) this.scope?.counted(error);
    const { span } = this;
    if (span === undefined) return;
    const { status } = this;
    span.setAttributes(
      status === undefined ? { outcome } : { 'http.response.status_code': status, outcome },
    );
    if (outcome !== 'ok') span.fail(outcome);
    span.end(this.endedAt);
  }
}

/** One upstream read: its span, and its calls' answers held until the adapter is done. */
class ObservedRead implements UpstreamReadWatch, ReadScope {
  private readonly started = performance.now();
  private held: HeldCall[] | undefined;
  private countedErrors: Set<unknown> | undefined;
  private done = false;
  readonly span: TraceSpan | undefined;

  constructor(
    private readonly observed: Observed,
    parent: TraceSpan | undefined,
  ) {
    this.span = observed.tracing?.internalSpan(READ_SPAN, observed.identity, parent);
  }

  get scope(): ReadScope {
    return this;
  }

  hold(call: HeldCall): void {
    // An answer after the adapter gave up waiting (a login others still await): judged once
    // whoever asked for it has read it.
    if (this.done) {
      setImmediate(() => call.settle('ok'));
      return;
    }
    this.held ??= [];
    this.held.push(call);
  }

  counted(error: unknown): void {
    this.countedErrors ??= new Set();
    this.countedErrors.add(error);
  }

  callsDone(error?: unknown): void {
    this.done = true;
    const held = this.held;
    if (held === undefined) return;
    // A body that broke the contract after its table had accepted it: the last such answer.
    if (
      error instanceof UpstreamError &&
      error.code === 'UPSTREAM_BAD_RESPONSE' &&
      this.countedErrors?.has(error) !== true
    ) {
      held.findLast((call) => !call.settled)?.settle('UPSTREAM_BAD_RESPONSE', error);
    }
    for (const call of held) call.settle('ok');
  }

  ended(source: 'upstream' | 'stale', error?: unknown): void {
    const { cells } = this.observed;
    if (cells !== undefined) {
      cells.countRead(source);
      cells.readDuration.observe((performance.now() - this.started) / 1000);
    }
    const { span } = this;
    if (span === undefined) return;
    const outcome = error === undefined ? 'ok' : codeOf(error);
    span.setAttributes({ source, outcome });
    // A stale answer is an answer: the failure behind it is its outcome, not an error.
    if (error !== undefined && source === 'upstream') span.fail(outcome);
    span.end();
  }
}

function createProviderObserver(options: ProviderObserverOptions): ProviderObserver {
  const { tenantId, providerId, kind, metrics, tracing } = options;
  const observed: Observed = {
    cells:
      metrics === undefined
        ? undefined
        : new ProviderCells(metrics, metrics.providerLabels(tenantId, providerId, kind)),
    tracing,
    identity: { tenant: tenantId, provider: providerId, kind },
  };
  const { cells, identity } = observed;

  /**
   * A call's span name and the attributes every try of it shares, worked out once per path
   * template, method, route and host (a few per provider; past the bound, afresh each time). The
   * HTTP client conventions, from the URL's origin and the path template only: the query may hold
   * a credential, and headers and bodies never go into a span. The provider is named; its tenant
   * and kind are on the read span above.
   */
  const callShapes = new Map<string, CallShape[]>();
  let shapesKept = 0;
  function callShape(info: UpstreamCallInfo): CallShape {
    const { url, method, template, route } = info;
    const host = url.host;
    const kept = callShapes.get(template);
    const found = kept?.find(
      (shape) => shape.method === method && shape.route === route && shape.host === host,
    );
    if (found !== undefined) return found;
    const shape: CallShape = {
      method,
      route,
      host,
      name: `${method} ${template}`,
      attributes: {
        provider: providerId,
        route,
        'http.request.method': method,
        'server.address': url.hostname,
        'server.port': url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
        'url.template': template,
      },
    };
    if (shapesKept < MAX_CALL_SHAPES) {
      shapesKept += 1;
      if (kept === undefined) callShapes.set(template, [shape]);
      else kept.push(shape);
    }
    return shape;
  }

  /** The read span's attributes by where the answer came from, made once (not spread per read). */
  const sourceIdentity = {
    cache: { ...identity, source: 'cache' },
    coalesced: { ...identity, source: 'coalesced' },
  };

  /** A read span that is over at once (the freshness window), or when `read` settles. */
  function readSpan(
    source: 'cache' | 'coalesced',
    parent: TraceSpan | undefined,
    read?: Promise<unknown>,
  ): void {
    if (tracing === undefined) return;
    const span = tracing.internalSpan(READ_SPAN, sourceIdentity[source], parent);
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

  return {
    call(info: UpstreamCallInfo, headers: Record<string, string>, scope?: ReadScope): CallWatch {
      const read = scope as ObservedRead | undefined;
      let span: TraceSpan | undefined;
      if (tracing !== undefined) {
        const shape = callShape(info);
        span = tracing.clientSpan(
          shape.name,
          info.attempt > 1
            ? { ...shape.attributes, 'http.request.resend_count': info.attempt - 1 }
            : shape.attributes,
          read?.span,
          headers,
        );
      }
      return new ObservedCall(observed, info.route, read, span);
    },
    cached(parent) {
      cells?.countRead('cache');
      readSpan('cache', parent);
    },
    joined(read, parent) {
      cells?.countRead('coalesced');
      readSpan('coalesced', parent, read);
    },
    upstream: (parent) => new ObservedRead(observed, parent),
  };
}
