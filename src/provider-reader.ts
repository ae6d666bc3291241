import { type BulkheadPolicy, bulkhead } from 'cockatiel';
import type { ProviderConfig } from './config.js';
import { foldCurrencies } from './currency.js';
import type { BalanceQuery, NormalizedAccount, ProviderAdapter } from './providers/adapter.js';
import type { ProviderCircuitBreaker } from './upstream/circuit-breaker.js';
import { deadlineReached, ReadStop } from './upstream/deadline.js';
import type { UpstreamError } from './upstream/errors.js';
import { timeoutError } from './upstream/http-errors.js';

/**
 * One upstream read of a provider. What it covers is the request loader's to know: it decides
 * what each read asks for (see `createBalanceLoader`).
 */
export interface ProviderRead {
  accounts: NormalizedAccount[];
  /** When the provider answered: the truth about the data's age, also when shared or cached. */
  fetchedAt: Date;
}

export type ReadProvider = ((query: BalanceQuery) => Promise<ProviderRead>) & {
  /** How many read shapes (currency sets) the freshness window holds now. */
  cachedShapes(): number;
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
  >;
  breaker: ProviderCircuitBreaker;
  /**
   * The app's clock (tests move it): when a read answered (`fetchedAt`) and how long it stays
   * fresh. Deadlines are not on it: they run on the monotonic `performance.now()`. Default
   * Date.now.
   */
  now?: () => number;
}

/**
 * How one (tenant, provider) is read, outermost first: an identical read already under way is
 * joined (coalescing), a recent enough read is reused (`cacheTtlMs`), and otherwise the read runs
 * under the provider's deadline, waits for a slot of its concurrency cap, and goes through its
 * circuit breaker. All of it is
 * per (tenant, provider): nothing is ever shared across tenants. A failure is shared only with the
 * callers that were waiting on that very read.
 */
export function createProviderReader(options: ProviderReaderOptions): ReadProvider {
  const { adapter, breaker, config } = options;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, Promise<ProviderRead>>();
  const recent = new Map<string, { read: ProviderRead; until: number }>();
  const cap: BulkheadPolicy = bulkhead(config.maxConcurrency, Number.MAX_SAFE_INTEGER);

  /**
   * Waits for a free slot no longer than the deadline, then reads. One timer and one abort
   * signal per read: at the deadline a read still queued gives up, and a read under way has all
   * its upstream calls aborted (they share the signal rather than each arming a timer).
   */
  function capped(query: BalanceQuery & { deadlineAt: number }): Promise<NormalizedAccount[]> {
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
      const bounded = { ...query, signal: stop };
      return breaker.run(() => adapter.fetchAccounts(bounded, adapter.transport.within(bounded)));
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

  function readUpstream(query: BalanceQuery): Promise<ProviderRead> {
    const own = performance.now() + config.timeoutMs;
    const deadlineAt = query.deadlineAt === undefined ? own : Math.min(own, query.deadlineAt);
    return capped({ ...query, deadlineAt }).then((accounts) => ({
      accounts,
      fetchedAt: new Date(now()),
    }));
  }

  const read = (query: BalanceQuery): Promise<ProviderRead> => {
    const key = query.currencies === null ? '*' : foldCurrencies(query.currencies).join(',');
    const at = now();
    for (const candidate of key === '*' ? ['*'] : ['*', key]) {
      const cached = recent.get(candidate);
      if (cached !== undefined) {
        if (cached.until > at) return Promise.resolve(cached.read);
        recent.delete(candidate);
      }
      if (config.coalesceReads) {
        const joined = inFlight.get(candidate);
        if (joined !== undefined) return joined;
      }
    }
    const upstream = readUpstream(query);
    if (config.coalesceReads) {
      inFlight.set(key, upstream);
      // Once settled the read is no longer joinable; a later caller reads afresh.
      upstream.then(
        () => inFlight.delete(key),
        () => inFlight.delete(key),
      );
    }
    if (config.cacheTtlMs > 0) {
      upstream.then(
        (value) => remember(key, value),
        () => {},
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
    recent.set(key, { read: value, until: now() + config.cacheTtlMs });
  }

  return Object.assign(read, { cachedShapes: () => recent.size });
}
