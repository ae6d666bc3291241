import { foldCurrency } from '../../currency.js';
import { Amount } from '../../money.js';
import { ContractViolation } from '../../upstream/errors.js';
import { expectRecord, readOptionalAmount } from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';

/** The `*10000` fields are the amount times ten thousand. */
const SCALE_DIGITS = 4;

/**
 * The one balance of a prepaid account. The `*10000` integers are authoritative; a float field is
 * read only where its integer is missing.
 *   {"balance10000":123456,"gift_balance10000":20000,"balance":12.3456,"gift_balance":2,
 *    "total_balance10000":143456,"total_balance":14.3456}
 */
export function normalizePrepaidBalance(body: unknown, currency: string): NormalizedAccount[] {
  const record = expectRecord(body, 'body');
  const scaledNormal = scaled(record, 'balance10000');
  const scaledGift = scaled(record, 'gift_balance10000');
  const normal = scaledNormal ?? readOptionalAmount(record, 'balance', 'body');
  const gift = scaledGift ?? readOptionalAmount(record, 'gift_balance', 'body');
  // The total is normal + gift. Integers first: the total's own, then the sum of both parts'
  // integers; only then the float total, then the sum of whatever the parts are.
  const total =
    scaled(record, 'total_balance10000') ??
    (scaledNormal !== undefined && scaledGift !== undefined
      ? scaledNormal.plus(scaledGift)
      : undefined) ??
    readOptionalAmount(record, 'total_balance', 'body') ??
    (normal !== undefined && gift !== undefined ? normal.plus(gift) : undefined);
  if (total === undefined) {
    throw new ContractViolation(
      'body.total_balance10000: expected an amount, received nothing (nor total_balance, nor both parts)',
    );
  }
  return [
    {
      upstreamId: 'default',
      name: undefined,
      type: undefined,
      status: undefined,
      suppressed: false,
      balances: [
        {
          currency: foldCurrency(currency),
          network: undefined,
          total,
          available: total,
          components: gift === undefined ? [] : [{ kind: 'GIFT', amount: gift }],
          depositAddresses: [],
          updatedAt: undefined,
          raw: record,
        },
      ],
    },
  ];
}

/** A `*10000` integer field as its amount; undefined where it is missing. */
function scaled(record: Record<string, unknown>, field: string): Amount | undefined {
  const units = readOptionalAmount(record, field, 'body');
  if (units === undefined) return undefined;
  if (!units.value.isInteger()) {
    throw new ContractViolation(`body.${field}: expected an integer, received a fraction`);
  }
  return Amount.fromScaledInteger(units, SCALE_DIGITS);
}
