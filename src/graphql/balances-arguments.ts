import type { builder } from '../builder.js';

type FieldBuilder = Parameters<Parameters<typeof builder.objectFields>[1]>[0];

/**
 * The arguments of every `balances` field: which currencies, and the smallest total. The codes
 * are checked before the request runs (useCurrencyArguments), as every `currencies` argument is.
 */
export function balancesArguments(t: FieldBuilder) {
  return {
    currencies: t.arg.stringList({
      required: false,
      description: 'Only these currency codes, matched without regard to case.',
    }),
    minTotal: t.arg({
      type: 'Decimal',
      required: false,
      description: 'Only balances whose total is at least this, e.g. "0.01" to hide dust.',
    }),
  };
}
