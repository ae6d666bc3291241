import DataLoader from 'dataloader';
import { currencyMatcher, foldCurrencies } from './currency.js';
import { Amount } from './money.js';
import type { ProviderRead } from './provider-reader.js';
import type { NormalizedBalance } from './providers/adapter.js';
import type { ProviderRuntime, TenantRuntime } from './tenants.js';
import type { TraceSpan } from './tracing/types.js';

/** What a resolver needs of one provider: every currency (`null`) or some, in any case. */
export interface BalanceNeed {
  providerId: string;
  currencies: readonly string[] | null;
}

/** One upstream read of one provider, shared by every field of the request that needs it. */
export interface ProviderSnapshot extends ProviderRead {
  provider: ProviderRuntime;
}

export type BalanceLoader = DataLoader<BalanceNeed, ProviderSnapshot, string>;

/**
 * The per-request loader of provider balances. Every need of a request is gathered into one batch
 * (dispatch waits for the event loop's check phase, after every resolver that can run without I/O
 * has asked), then each provider is read once with the union of what was asked: all currencies
 * if any field needs all, else just those, where the kind can narrow a read. The codes were
 * checked before the request ran (useCurrencyArguments), so none is judged here.
 */
export function createBalanceLoader(
  tenant: TenantRuntime,
  deadlineAt?: number,
  /** The request's span, the parent of its reads' spans (when tracing is on). */
  traceParent?: TraceSpan,
): BalanceLoader {
  // Reads already made or under way in this request, with what each covers (known when it
  // starts), so a late need that an earlier read covers costs nothing, and waits for nothing else.
  const reads = new Map<string, RequestRead[]>();

  /** A new read of the provider for `wanted`, remembered for later needs of this request. */
  function startRead(providerId: string, wanted: Set<string> | null): Promise<ProviderSnapshot> {
    const provider = tenant.byId.get(providerId);
    // Computed here once: the read is asked for just this, and later needs are judged by it.
    const coverage = provider === undefined ? wanted : readCoverage(provider, wanted);
    const snapshot =
      provider === undefined
        ? Promise.reject(new Error(`unknown provider "${providerId}"`))
        : provider
            .read({ currencies: coverage === null ? null : [...coverage], deadlineAt, traceParent })
            .then((read) => ({ provider, ...read }));
    // Handled by the slots below; this keeps an early rejection from going unobserved.
    snapshot.catch(() => {});
    reads.set(providerId, [...(reads.get(providerId) ?? []), { coverage, snapshot }]);
    return snapshot;
  }

  return new DataLoader<BalanceNeed, ProviderSnapshot, string>(
    async (needs) => {
      const byProvider = new Map<string, BalanceNeed[]>();
      for (const need of needs) {
        const list = byProvider.get(need.providerId) ?? [];
        list.push(need);
        byProvider.set(need.providerId, list);
      }
      const results = new Map<string, Promise<ProviderSnapshot>>();
      for (const [providerId, providerNeeds] of byProvider) {
        const wanted = unionOfCurrencies(providerNeeds);
        const covering = reads.get(providerId)?.find((earlier) => covers(earlier.coverage, wanted));
        // A covering read is reused; should it fail, failures are not reused: a read of its own.
        results.set(
          providerId,
          covering === undefined
            ? startRead(providerId, wanted)
            : covering.snapshot.catch(() => startRead(providerId, wanted)),
        );
      }
      return Promise.all(
        needs.map((need) =>
          (results.get(need.providerId) as Promise<ProviderSnapshot>).catch((error: unknown) =>
            error instanceof Error ? error : new Error(String(error)),
          ),
        ),
      );
    },
    {
      batchScheduleFn: (dispatch) => setImmediate(dispatch),
      cacheKeyFn: (need) =>
        `${need.providerId}\u0000${need.currencies === null ? '*' : foldCurrencies(need.currencies).join(',')}`,
    },
  );
}

/** One read of a request: what it covers (folded codes, or null for all), and its result. */
interface RequestRead {
  coverage: ReadonlySet<string> | null;
  snapshot: Promise<ProviderSnapshot>;
}

/**
 * What a read for `wanted` (folded codes) covers, and so asks the provider for: just those where
 * the kind can narrow a read to them, else every currency (null).
 */
function readCoverage(provider: ProviderRuntime, wanted: Set<string> | null): Set<string> | null {
  const filter = provider.adapter.capabilities.currencyFilter;
  return wanted === null || filter === 'none' || (filter === 'one' && wanted.size !== 1)
    ? null
    : wanted;
}

function covers(coverage: ReadonlySet<string> | null, wanted: Set<string> | null): boolean {
  if (coverage === null) return true;
  return wanted !== null && [...wanted].every((currency) => coverage.has(currency));
}

function unionOfCurrencies(needs: BalanceNeed[]): Set<string> | null {
  const union = new Set<string>();
  for (const need of needs) {
    if (need.currencies === null) return null;
    for (const currency of foldCurrencies(need.currencies)) union.add(currency);
  }
  return union;
}

/** The `balances` arguments as one predicate: currencies, and a smallest total. */
export function balanceMatcher(args: {
  currencies?: readonly string[] | null | undefined;
  minTotal?: Amount | null | undefined;
}): (balance: NormalizedBalance) => boolean {
  const currency = currencyMatcher(args.currencies);
  if (args.minTotal === null || args.minTotal === undefined) return currency;
  // graphql-jit hands a literal argument over as written (validation has already checked it).
  const minTotal =
    args.minTotal instanceof Amount ? args.minTotal : Amount.fromPlainString(String(args.minTotal));
  if (minTotal === undefined) return () => false;
  return (balance) => currency(balance) && balance.total.value.gte(minTotal.value);
}
