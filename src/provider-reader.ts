import { type BulkheadPolicy, bulkhead } from 'cockatiel';
import type { ProviderConfig } from './config/providers.js';
import { foldCurrencies } from './currency.js';
import { createProviderStatusTracker, type ProviderStatusTracker } from './provider-status.js';
import type { BalanceQuery, NormalizedAccount, ProviderAdapter } from './providers/adapter.js';
import type { TraceSpan } from './tracing/types.js';
import type { ProviderCircuitBreaker } from './upstream/circuit-breaker.js';
import { deadlineReached, ReadStop } from './upstream/deadline.js';
import { isUpstreamError, type UpstreamError } from './upstream/errors.js';
import { timeoutError } from './upstream/http-errors.js';
import type { ProviderObserver, UpstreamReadWatch } from './upstream/observer.js';

/**
 * One upstream read of a provider. What it covers is the request loader's to know: it decides
 * what each read asks for (see `createBalanceLoader`).
 */
export interface ProviderRead {
  accounts: NormalizedAccount[];
  /** When the provider answered: the truth about the data's age, also when shared or cached. */
  fetchedAt: Date;
  /**
   * True when this read failed and an earlier successful one (within `staleIfErrorMs`) answers
   * instead; `fetchedAt` is then that earlier read's time. Absent or false: read just now.
   */
  stale?: boolean;
}

/** What the reader is asked: a balance query, and whether it may be served from the window. */
export interface ReaderQuery extends BalanceQuery {
  /**
   * Skip the freshness window (`cacheTtlMs`): read the provider now, joining a read of it already
   * under way. A subscription poll reads this way. Default false.
   */
  fresh?: boolean | undefined;
  /** The span of the request that asks, the parent of the read's span; none for a poll. */
  traceParent?: TraceSpan | undefined;
}

/**
 * What the cluster (`cluster` in the configuration) decides before an upstream read: another
 * instance's read within `cacheTtlMs` answers it; the cluster's rate-limit hold refuses it
 * (UPSTREAM_RATE_LIMITED, answered from the stale-if-error window where it can be); or this
 * instance reads, and `go` is told how the read ended, to share it.
 */
export type SharedReadStart =
  | { read: ProviderRead }
  | { refuse: UpstreamError }
  | { go: (outcome: { ok: true; read: ProviderRead } | { ok: false; error: unknown }) => void };

/** One (tenant, provider)'s reads shared with the other instances of a cluster. */
export interface SharedReadPath {
  /**
   * Before reading `key` (the reader's currency-set key) upstream; `fresh` for a poll, which
   * skips the window. Never rejects: without Redis it says go.
   */
  before(key: string, fresh: boolean, deadlineAt: number): Promise<SharedReadStart>;
  /** Another instance's read covering `key` no older than `staleIfErrorMs` at `at`, if any. */
  stale(key: string, at: number): Promise<ProviderRead | undefined>;
}

export type ReadProvider = ((query: ReaderQuery) => Promise<ProviderRead>) & {
  /** How many read shapes (currency sets) the freshness window holds now. */
  cachedShapes(): number;
  /** How many successful reads the stale-if-error window holds now. */
  staleShapes(): number;
  /** This provider's status and listeners, fed by every read that settles. */
  readonly status: ProviderStatusTracker;
};

/**
 * The most read shapes kept for `cacheTtlMs` per (tenant, provider). The currency sets come from
 * clients' arguments, so without a bound a client could fill memory with distinct sets.
 */
export const MAX_CACHED_SHAPES = 32;

export interface ProviderReaderOptions {
  adapter: ProviderAdapter;
  config: Pick<
    ProviderConfig,
    'id' | 'timeoutMs' | 'maxConcurrency' | 'coalesceReads' | 'cacheTtlMs'
  > &
    Partial<Pick<ProviderConfig, 'staleIfErrorMs'>>;
  breaker: ProviderCircuitBreaker;
  /** Where reads are recorded and told; default a tracker of the reader's own. */
  status?: ProviderStatusTracker;
  /**
   * The app's clock (tests move it): when a read answered (`fetchedAt`) and how long it stays
   * fresh. Deadlines are not on it: they run on the monotonic `performance.now()`. Default
   * Date.now.
   */
  now?: () => number;
  /** Told of every read and where its answer came from (metrics, traces); default none. */
  observer?: ProviderObserver | undefined;
  /** The reads shared with the other instances (`cluster`); default none: in-process only. */
  shared?: SharedReadPath | undefined;
}

/**
 * How one (tenant, provider) is read, outermost first: an identical read already under way is
 * joined (coalescing), a recent enough read is reused (`cacheTtlMs`, unless the query is
 * `fresh`), and otherwise the read runs under the provider's deadline, waits for a slot of its
 * concurrency cap, and goes through its circuit breaker. Each upstream read that settles is
 * recorded once in the provider's status and told to its read listeners; a failed one is answered
 * from the stale-if-error window (`staleIfErrorMs`) when it can be. All of it is
 * per (tenant, provider): nothing is ever shared across tenants. A failure is shared only with the
 * callers that were waiting on that very read.
 */
export function createProviderReader(options: ProviderReaderOptions): ReadProvider {
  const { adapter, breaker, config, observer, shared } = options;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, Promise<ProviderRead>>();
  const recent = new Map<string, { read: ProviderRead; until: number }>();
  const staleIfErrorMs = config.staleIfErrorMs ?? 0;
  const status = options.status ?? createProviderStatusTracker();
  /** The last successful read of each shape, for stale-if-error; folded codes, null for all. */
  const forErrors = new Map<string, { coverage: ReadonlySet<string> | null; read: ProviderRead }>();
  const cap: BulkheadPolicy = bulkhead(config.maxConcurrency, Number.MAX_SAFE_INTEGER);

  /**
   * Waits for a free slot no longer than the deadline, then reads. One timer and one abort
   * signal per read: at the deadline a read still queued gives up, and a read under way has all
   * its upstream calls aborted (they share the signal rather than each arming a timer).
   */
  function capped(
    query: BalanceQuery & { deadlineAt: number },
    watch: UpstreamReadWatch | undefined,
  ): Promise<NormalizedAccount[]> {
    const left = Math.max(1, Math.ceil(query.deadlineAt - performance.now()));
    const stop = new ReadStop();
    let started = false;
    let gaveUp = false;
    let backstop: NodeJS.Timeout | undefined;
    let expire: (error: UpstreamError) => void = () => {};
    const timer = setTimeout(() => {
      if (!started) {
        gaveUp = true;
        expire(
          timeoutError(config.id, config.timeoutMs, { waitedForOneOf: config.maxConcurrency }),
        );
        return;
      }
      stop.abort(deadlineReached());
      // The aborted calls end the read; this is only a backstop.
      backstop = setTimeout(() => expire(timeoutError(config.id, config.timeoutMs)), 250);
    }, left);
    // No abort signal for the bulkhead: a cancelled task would end its queue's progress. A slot
    // given to a caller that has stopped waiting is handed back at once instead.
    // The read carries its own deadline: a queued read is started by whichever read frees the
    // slot, and must not inherit that one's.
    const start = () => {
      if (gaveUp) return Promise.reject(timeoutError(config.id, config.timeoutMs));
      started = true;
      // The read's deadline is owned here: every call of the read (login, pages, retries) goes
      // through the provider's transport bounded by it and stopped by its signal. The breaker
      // judges the provider by its answers, not by time spent waiting here.
      // A literal: on Node 20 a spread with fields added costs microseconds.
      const bounded = {
        currencies: query.currencies,
        deadlineAt: query.deadlineAt,
        signal: stop,
        scope: watch?.scope,
      };
      return breaker.run(() => {
        const fetched = adapter.fetchAccounts(bounded, adapter.transport.within(bounded));
        // The calls are judged when the adapter is done with them, whatever the deadline did.
        if (watch !== undefined) {
          fetched.then(
            () => watch.callsDone(),
            (error: unknown) => watch.callsDone(error),
          );
        }
        return fetched;
      });
    };
    const read = cap.execute(start);
    read.catch(() => {});
    const expired = new Promise<never>((_, reject) => {
      expire = reject;
    });
    return Promise.race([read, expired]).finally(() => {
      clearTimeout(timer);
      clearTimeout(backstop);
    });
  }

  /** A read's deadline: the provider's `timeoutMs` from now, or the query's own if sooner. */
  function deadlineOf(query: BalanceQuery): number {
    const own = performance.now() + config.timeoutMs;
    return query.deadlineAt === undefined ? own : Math.min(own, query.deadlineAt);
  }

  /** A successful read, kept for the freshness and the stale-if-error windows where they are on. */
  function keep(key: string, currencies: string[] | null, value: ProviderRead): void {
    if (config.cacheTtlMs > 0) remember(key, value);
    if (staleIfErrorMs > 0) keepForErrors(key, currencies, value);
  }

  function readUpstream(
    query: BalanceQuery,
    watch: UpstreamReadWatch | undefined,
  ): Promise<ProviderRead> {
    return capped({ currencies: query.currencies, deadlineAt: deadlineOf(query) }, watch).then(
      (accounts) => ({
        accounts,
        fetchedAt: new Date(now()),
      }),
    );
  }

  /**
   * One upstream read, recorded once however many callers share it: in the status and the
   * windows, and told to the read listeners. A failure is answered from the stale-if-error
   * window when it holds a recent enough read covering the currencies asked for.
   */
  function settled(
    query: ReaderQuery,
    key: string,
    start?: Exclude<SharedReadStart, { read: ProviderRead }>,
  ): Promise<ProviderRead> {
    const currencies = key === '*' ? null : key.split(',');
    const watch = observer?.upstream(query.traceParent);
    const go = start !== undefined && 'go' in start ? start.go : undefined;
    // The cluster's rate-limit hold answers as this instance's own 429 would.
    const upstream =
      start !== undefined && 'refuse' in start
        ? Promise.reject(start.refuse)
        : readUpstream(query, watch);
    return upstream.then(
      (value) => {
        keep(key, currencies, value);
        go?.({ ok: true, read: value });
        status.record({ ok: true, currencies, read: value, stale: false });
        watch?.ended('upstream');
        return value;
      },
      (error: unknown) => {
        const at = new Date(now());
        go?.({ ok: false, error });
        if (!isUpstreamError(error)) {
          status.recordUnexpected(at);
          watch?.ended('upstream', error);
          throw error;
        }
        status.record({ ok: false, currencies, error, at });
        const answer = (earlier: ProviderRead | undefined): ProviderRead => {
          watch?.ended(earlier === undefined ? 'upstream' : 'stale', error);
          if (earlier === undefined) throw error;
          const stale: ProviderRead = {
            accounts: earlier.accounts,
            fetchedAt: earlier.fetchedAt,
            stale: true,
          };
          status.record({ ok: true, currencies, read: stale, stale: true });
          return stale;
        };
        const earlier = staleIfErrorMs > 0 ? servingForErrors(currencies, at.getTime()) : undefined;
        // With `cluster`, another instance's read may serve where this one has none.
        if (earlier === undefined && shared !== undefined && staleIfErrorMs > 0) {
          return shared.stale(key, at.getTime()).then(answer);
        }
        return answer(earlier);
      },
    );
  }

  /**
   * With `cluster`: another instance's read within the window answers (kept here too), the
   * cluster's rate-limit hold refuses, or this instance reads and shares what it read.
   */
  function clustered(query: ReaderQuery, key: string, path: SharedReadPath): Promise<ProviderRead> {
    const deadlineAt = deadlineOf(query);
    return path.before(key, query.fresh === true, deadlineAt).then((start) => {
      // The time spent waiting for the cluster counts against the read's deadline.
      if (!('read' in start)) {
        const bounded = {
          currencies: query.currencies,
          deadlineAt,
          fresh: query.fresh,
          traceParent: query.traceParent,
        };
        return settled(bounded, key, start);
      }
      keep(key, key === '*' ? null : key.split(','), start.read);
      observer?.cached(query.traceParent);
      return start.read;
    });
  }

  const read = (query: ReaderQuery): Promise<ProviderRead> => {
    const key = query.currencies === null ? '*' : foldCurrencies(query.currencies).join(',');
    const at = now();
    for (const candidate of key === '*' ? ['*'] : ['*', key]) {
      const cached = query.fresh === true ? undefined : recent.get(candidate);
      if (cached !== undefined) {
        if (cached.until > at) {
          observer?.cached(query.traceParent);
          return Promise.resolve(cached.read);
        }
        recent.delete(candidate);
      }
      if (config.coalesceReads) {
        const joined = inFlight.get(candidate);
        if (joined !== undefined) {
          observer?.joined(joined, query.traceParent);
          return joined;
        }
      }
    }
    const upstream = shared === undefined ? settled(query, key) : clustered(query, key, shared);
    if (config.coalesceReads) {
      inFlight.set(key, upstream);
      // Once settled the read is no longer joinable; a later caller reads afresh.
      upstream.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
    }
    return upstream;
  };

  /** Keeps a read for the freshness window; past the bound, the oldest shape goes first. */
  function remember(key: string, value: ProviderRead): void {
    recent.delete(key);
    if (recent.size >= MAX_CACHED_SHAPES) {
      const oldest = recent.keys().next();
      if (oldest.done !== true) recent.delete(oldest.value);
    }
    // Fresh for the window from when the provider answered, on whichever instance it did.
    recent.set(key, { read: value, until: value.fetchedAt.getTime() + config.cacheTtlMs });
  }

  /**
   * Keeps a successful read for the stale-if-error window, bounded like the freshness window
   * (the currency sets are clients' choice): past the bound, the least recently read shape goes.
   */
  function keepForErrors(key: string, currencies: string[] | null, value: ProviderRead): void {
    forErrors.delete(key);
    if (forErrors.size >= MAX_CACHED_SHAPES) {
      const oldest = forErrors.keys().next();
      if (oldest.done !== true) forErrors.delete(oldest.value);
    }
    forErrors.set(key, { coverage: currencies === null ? null : new Set(currencies), read: value });
  }

  /**
   * The newest kept read no older than `staleIfErrorMs` at `at` that covers `currencies`: a read
   * of every currency covers any set, a narrower one only its subsets. Expired reads are dropped.
   */
  function servingForErrors(currencies: string[] | null, at: number): ProviderRead | undefined {
    let best: ProviderRead | undefined;
    for (const [key, kept] of forErrors) {
      const age = at - kept.read.fetchedAt.getTime();
      if (age > staleIfErrorMs) {
        forErrors.delete(key);
        continue;
      }
      if (
        covers(kept.coverage, currencies) &&
        (best === undefined || kept.read.fetchedAt > best.fetchedAt)
      )
        best = kept.read;
    }
    return best;
  }

  return Object.assign(read, {
    cachedShapes: () => recent.size,
    staleShapes: () => forErrors.size,
    status,
  });
}

/** Whether a read of `coverage` (null: every currency) answers a question about `currencies`. */
function covers(
  coverage: ReadonlySet<string> | null,
  currencies: readonly string[] | null,
): boolean {
  if (coverage === null) return true;
  if (currencies === null) return false;
  return currencies.every((currency) => coverage.has(currency));
}
