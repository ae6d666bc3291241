import { builder } from '../builder.js';
import { foldCurrency, foldedCurrencyMatcher } from '../currency.js';
import { type Amount, sumAmounts } from '../money.js';
import { TotalsRef, type TotalsView } from './refs.js';

const CurrencyTotalRef = builder
  .objectRef<TotalsView['currencies'][number]>('CurrencyTotal')
  .implement({
    fields: (t) => ({
      currency: t.exposeString('currency'),
      total: t.expose('total', { type: 'Decimal' }),
      available: t.expose('available', { type: 'Decimal' }),
    }),
  });

TotalsRef.implement({
  fields: (t) => ({
    complete: t.exposeBoolean('complete', {
      description: 'False when a provider could not be read.',
    }),
    missingProviders: t.exposeIDList('missingProviders'),
    staleProviders: t.exposeIDList('staleProviders', {
      description:
        'Providers whose balances in these totals are stale: from an earlier read, because the current one failed.',
    }),
    currencies: t.expose('currencies', {
      type: [CurrencyTotalRef],
      description: 'Summed exactly across all accounts, by currency code; sorted by code.',
    }),
  }),
});

builder.queryField('totals', (t) =>
  t.field({
    type: TotalsRef,
    description:
      'Every balance of every provider summed by currency (upper-cased code), optionally only these currencies. A provider that cannot be read is listed in missingProviders; one answered from an earlier read (stale-if-error) is counted and listed in staleProviders.',
    args: { currencies: t.arg.stringList({ required: false }) },
    resolve: async (_root, args, context) => {
      // Checked before the request ran (useCurrencyArguments).
      const currencies = args.currencies ?? null;
      const providers = context.tenant.providers;
      const settled = await Promise.allSettled(
        providers.map((provider) =>
          context.loaders.balances.load({ providerId: provider.id, currencies }),
        ),
      );
      const matches = foldedCurrencyMatcher(currencies);
      const sums = new Map<string, { total: Amount[]; available: Amount[] }>();
      const missingProviders: string[] = [];
      const staleProviders: string[] = [];
      settled.forEach((result, index) => {
        if (result.status === 'rejected') {
          missingProviders.push((providers[index] as { id: string }).id);
          return;
        }
        if (result.value.stale === true) staleProviders.push(result.value.provider.id);
        for (const account of result.value.accounts) {
          for (const balance of account.balances) {
            // Folded once: the filter and the sum's key are the same code.
            const code = foldCurrency(balance.currency);
            if (!matches(code)) continue;
            const sum = sums.get(code) ?? { total: [], available: [] };
            sum.total.push(balance.total);
            sum.available.push(balance.available);
            sums.set(code, sum);
          }
        }
      });
      return {
        complete: missingProviders.length === 0,
        missingProviders,
        staleProviders,
        currencies: [...sums.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([currency, sum]) => ({
            currency,
            total: sumAmounts(sum.total),
            available: sumAmounts(sum.available),
          })),
      };
    },
  }),
);
