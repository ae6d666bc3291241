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
  const normal = scaledOrFloat(record, 'balance10000', 'balance');
  const gift = scaledOrFloat(record, 'gift_balance10000', 'gift_balance');
  // The total is normal + gift; where the upstream gives neither form of it, it is that sum.
  const total =
    scaledOrFloat(record, 'total_balance10000', 'total_balance') ??
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
          currency: currency.toUpperCase(),
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

function scaledOrFloat(
  record: Record<string, unknown>,
  scaledField: string,
  floatField: string,
): Amount | undefined {
  const scaled = readOptionalAmount(record, scaledField, 'body');
  if (scaled !== undefined) {
    if (!scaled.value.isInteger()) {
      throw new ContractViolation(`body.${scaledField}: expected an integer, received a fraction`);
    }
    return Amount.fromScaledInteger(scaled, SCALE_DIGITS);
  }
  return readOptionalAmount(record, floatField, 'body');
}
