import type { builder } from '../builder.js';
import type { RequestContext } from '../context.js';
import { currencyListProblem } from '../currency.js';
import { badUserInput } from './errors.js';

type FieldBuilder = Parameters<Parameters<typeof builder.objectFields>[1]>[0];

/** The arguments of every `balances` field: which currencies, and the smallest total. */
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

/**
 * A `currencies` argument checked before any upstream call: null for every currency, else the
 * codes. A code that is not 1 to 20 ASCII letters, digits, `_` or `-` (pik puts codes in a request
 * path, where `..` would walk up it) refuses the request: BAD_USER_INPUT, HTTP 400, naming the
 * field and the item, and no read of this request starts afterwards.
 */
export function checkedCurrencies(
  currencies: readonly unknown[] | string | null | undefined,
  field: string,
  context: Pick<RequestContext, 'loaders'>,
): readonly string[] | null {
  if (currencies === null || currencies === undefined) return null;
  // A single value where a list is expected is a list of one, as GraphQL coerces it.
  const list = typeof currencies === 'string' ? [currencies] : currencies;
  const problem = currencyListProblem(list);
  if (problem === undefined) return list as readonly string[];
  context.loaders.balances.refuse(
    badUserInput(
      `not read: ${field}(currencies:) has an invalid item, so the request reads nothing`,
    ),
  );
  throw badUserInput(`${field}(currencies:) ${problem}`);
}
