import { describe, expect, it } from 'vitest';
import { applyRead, type SeenBalance, sameBalanceValue, seenBalances } from '../src/live/diff.js';
import { Amount } from '../src/money.js';
import type { NormalizedAccount, NormalizedBalance } from '../src/providers/adapter.js';

function amount(text: string): Amount {
  const value = Amount.fromPlainString(text);
  if (value === undefined) throw new Error(`not an amount: ${text}`);
  return value;
}

function balance(
  currency: string,
  total: string,
  extra: Partial<Omit<NormalizedBalance, 'total' | 'available'>> & { available?: string } = {},
): NormalizedBalance {
  const { available, ...rest } = extra;
  return {
    currency,
    network: undefined,
    total: amount(total),
    available: amount(available ?? total),
    components: [],
    depositAddresses: [],
    updatedAt: undefined,
    raw: {},
    ...rest,
  } as NormalizedBalance;
}

function account(upstreamId: string, balances: NormalizedBalance[]): NormalizedAccount {
  return {
    upstreamId,
    name: undefined,
    type: undefined,
    status: undefined,
    suppressed: false,
    balances,
  };
}

const T1 = new Date('2026-12-01T00:00:00Z');
const T2 = new Date('2026-12-01T00:00:30Z');

function read(accounts: NormalizedAccount[], covered: string[] | null, at = T2) {
  const set = covered === null ? null : new Set(covered);
  return { seen: seenBalances(accounts, set, at, false), covered: set };
}

function known(accounts: NormalizedAccount[]): Map<string, SeenBalance> {
  return seenBalances(accounts, null, T1, false);
}

describe('the diff of two reads, per (account, currency, network)', () => {
  it('compares exact decimals: "1.50" equals "1.5", a change in the 18th place is a change', () => {
    expect(sameBalanceValue(balance('USD', '1.50'), balance('USD', '1.5'))).toBe(true);
    expect(
      sameBalanceValue(
        balance('ETH', '0.000000000000000001'),
        balance('ETH', '0.000000000000000002'),
      ),
    ).toBe(false);
    expect(
      sameBalanceValue(
        balance('EUR', '9007199254740993.01'),
        balance('EUR', '9007199254740993.02'),
      ),
    ).toBe(false);
  });

  it('is CHANGED when only available or a component differs, whatever the components order', () => {
    const frozen = { kind: 'FROZEN' as const, amount: amount('1.0') };
    const pending = { kind: 'PENDING' as const, amount: amount('2') };
    expect(sameBalanceValue(balance('USD', '5', { available: '4' }), balance('USD', '5'))).toBe(
      false,
    );
    expect(
      sameBalanceValue(
        balance('USD', '5', { components: [frozen, pending] }),
        balance('USD', '5', {
          components: [
            { kind: 'PENDING', amount: amount('2.00') },
            { kind: 'FROZEN', amount: amount('1') },
          ],
        }),
      ),
    ).toBe(true);
    expect(
      sameBalanceValue(
        balance('USD', '5', { components: [frozen] }),
        balance('USD', '5', { components: [{ kind: 'FROZEN', amount: amount('1.01') }] }),
      ),
    ).toBe(false);
    expect(
      sameBalanceValue(balance('USD', '5', { components: [frozen] }), balance('USD', '5')),
    ).toBe(false);
  });

  it('finds ADDED, CHANGED and REMOVED with the value before, and nothing for an equal amount at another scale', () => {
    const state = known([
      account('a', [balance('USD', '1.50'), balance('EUR', '3')]),
      account('b', [balance('HKD', '0.1')]),
    ]);
    const next = read(
      [account('a', [balance('USD', '1.5'), balance('EUR', '3.01'), balance('GBP', '7')])],
      null,
    );
    const differences = applyRead(state, next.seen, next.covered);
    expect(
      differences.map((difference) => [
        difference.kind,
        (difference.now ?? difference.previous)?.account.upstreamId,
        (difference.now ?? difference.previous)?.balance.currency,
        difference.previous?.balance.total.toString() ?? null,
        difference.now?.balance.total.toString() ?? null,
      ]),
    ).toEqual([
      ['REMOVED', 'b', 'HKD', '0.1', null],
      ['CHANGED', 'a', 'EUR', '3', '3.01'],
      ['ADDED', 'a', 'GBP', null, '7'],
    ]);
    // The state is now the read: the same read again finds nothing.
    expect(applyRead(state, next.seen, next.covered)).toEqual([]);
  });

  it('keys by network too: the same currency on another network is another balance', () => {
    const state = known([account('w', [balance('USDT', '10', { network: 'TRON' })])]);
    const next = read(
      [
        account('w', [
          balance('USDT', '10', { network: 'TRON' }),
          balance('USDT', '5', { network: 'ETH' }),
        ]),
      ],
      null,
    );
    const differences = applyRead(state, next.seen, next.covered);
    expect(
      differences.map((difference) => [difference.kind, difference.now?.balance.network]),
    ).toEqual([['ADDED', 'ETH']]);
  });

  it('a read that covered only some currencies compares only those: the others are never REMOVED', () => {
    const state = known([
      account('a', [balance('USD', '1'), balance('EUR', '2'), balance('HKD', '3')]),
    ]);
    // A read of USD and HKD (case folded); it returns EUR too, which it was not asked for.
    const next = read([account('a', [balance('usd', '1.5'), balance('EUR', '9')])], ['USD', 'HKD']);
    const differences = applyRead(state, next.seen, next.covered);
    expect(
      differences.map((difference) => [
        difference.kind,
        (difference.now ?? difference.previous)?.balance.currency,
      ]),
    ).toEqual([
      ['REMOVED', 'HKD'],
      ['CHANGED', 'usd'],
    ]);
    // EUR is untouched: still 2.
    expect(
      [...state.values()].find((seen) => seen.balance.currency === 'EUR')?.balance.total.toString(),
    ).toBe('2');
  });
});
