import { foldCurrency } from '../currency.js';
import type { NormalizedAccount, NormalizedBalance } from '../providers/adapter.js';

/** CONTRACT.md's BalanceEventKind. */
export type BalanceEventKind = 'SNAPSHOT' | 'ADDED' | 'CHANGED' | 'REMOVED';

/** One balance as last seen: its account, its value, and the read that saw it. */
export interface SeenBalance {
  account: NormalizedAccount;
  balance: NormalizedBalance;
  fetchedAt: Date;
  /** Served from an earlier read because the current one failed (stale-if-error). */
  stale: boolean;
}

/** A difference between what was seen and what a read sees now. */
export interface BalanceDifference {
  kind: Exclude<BalanceEventKind, 'SNAPSHOT'>;
  /** The value now (ADDED, CHANGED), or the last one seen (REMOVED). */
  now: SeenBalance | undefined;
  /** The value before (CHANGED, REMOVED). */
  previous: SeenBalance | undefined;
}

/**
 * The identity of a balance: (account, currency, network). The currency is folded, so a provider
 * that changes a code's case does not remove and add it; an absent network differs from "".
 */
export function balanceKey(upstreamId: string, balance: NormalizedBalance): string {
  const network = balance.network === undefined ? '\u0001' : `\u0002${balance.network}`;
  return `${upstreamId}\u0000${foldCurrency(balance.currency)}\u0000${network}`;
}

/**
 * Whether two values of one balance are the same amounts: total, available and every component,
 * compared as exact decimals ("1.50" equals "1.5"), components by kind whatever their order.
 */
export function sameBalanceValue(a: NormalizedBalance, b: NormalizedBalance): boolean {
  if (!a.total.value.eq(b.total.value) || !a.available.value.eq(b.available.value)) return false;
  if (a.components.length !== b.components.length) return false;
  const byKind = (balance: NormalizedBalance) =>
    [...balance.components].sort((x, y) =>
      x.kind === y.kind ? x.amount.value.cmp(y.amount.value) : x.kind < y.kind ? -1 : 1,
    );
  const left = byKind(a);
  const right = byKind(b);
  return left.every((component, index) => {
    const other = right[index];
    return (
      other !== undefined &&
      other.kind === component.kind &&
      other.amount.value.eq(component.amount.value)
    );
  });
}

/**
 * The balances of a read, by key, restricted to the currencies it covered (folded codes; null for
 * every currency). An adapter may return more than it was asked for: what it was not asked for is
 * left out, so that a narrow read is judged on what it was asked alone.
 */
export function seenBalances(
  accounts: readonly NormalizedAccount[],
  covered: ReadonlySet<string> | null,
  fetchedAt: Date,
  stale: boolean,
): Map<string, SeenBalance> {
  const seen = new Map<string, SeenBalance>();
  for (const account of accounts) {
    for (const balance of account.balances) {
      if (covered !== null && !covered.has(foldCurrency(balance.currency))) continue;
      seen.set(balanceKey(account.upstreamId, balance), { account, balance, fetchedAt, stale });
    }
  }
  return seen;
}

/**
 * Applies a read to what was seen (`known`, changed in place) and returns the differences:
 * ADDED for a balance not seen before, CHANGED when its total, available or a component differs,
 * REMOVED for a balance seen before that the read did not return. Only the currencies the read
 * covered are compared: a currency it did not read is never REMOVED.
 */
export function applyRead(
  known: Map<string, SeenBalance>,
  read: Map<string, SeenBalance>,
  covered: ReadonlySet<string> | null,
): BalanceDifference[] {
  const differences: BalanceDifference[] = [];
  for (const [key, previous] of known) {
    if (read.has(key)) continue;
    if (covered !== null && !covered.has(foldCurrency(previous.balance.currency))) continue;
    known.delete(key);
    differences.push({ kind: 'REMOVED', now: undefined, previous });
  }
  for (const [key, now] of read) {
    const previous = known.get(key);
    known.set(key, now);
    if (previous === undefined) differences.push({ kind: 'ADDED', now, previous: undefined });
    else if (!sameBalanceValue(previous.balance, now.balance)) {
      differences.push({ kind: 'CHANGED', now, previous });
    }
  }
  return differences;
}
