import { foldCurrency } from '../../currency.js';
import { ContractViolation } from '../../upstream/errors.js';
import {
  describeJsonType,
  expectArray,
  expectRecord,
  readAmount,
  readString,
} from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';

/**
 * A balances answer (one page of it, or the whole list): one account per detail.
 *   {"id":0,"details":[{"id":101,"asset":"USD","totalBalance":1500.25,
 *    "availableBalance":1200.25,"pendingBalance":300,"bSuppressed":false}]}
 * The top-level `id` is unused, as the seed says.
 */
export function normalizeAssetAccountBalances(body: unknown): NormalizedAccount[] {
  const record = expectRecord(body, 'body');
  return expectArray(record.details, 'body.details').map((detail, index) =>
    normalizeAssetAccountDetail(detail, `body.details[${index}]`),
  );
}

/**
 * One asset account with its one balance. `availableBalance` is the total minus incoming pending
 * amounts, so PENDING is the component.
 *   {"id":101,"asset":"USD","totalBalance":1500.25,"availableBalance":1200.25,
 *    "pendingBalance":300,"bSuppressed":false}
 */
export function normalizeAssetAccountDetail(value: unknown, where: string): NormalizedAccount {
  const detail = expectRecord(value, where);
  const asset = readString(detail, 'asset', where);
  if (asset.trim() === '') {
    throw new ContractViolation(`${where}.asset: expected an asset code, received an empty string`);
  }
  return {
    upstreamId: readString(detail, 'id', where),
    name: undefined,
    type: undefined,
    status: undefined,
    suppressed: readSuppressed(detail, where),
    balances: [
      {
        currency: foldCurrency(asset.trim()),
        network: undefined,
        total: readAmount(detail, 'totalBalance', where),
        available: readAmount(detail, 'availableBalance', where),
        components: [{ kind: 'PENDING', amount: readAmount(detail, 'pendingBalance', where) }],
        depositAddresses: [],
        updatedAt: undefined,
        raw: detail,
      },
    ],
  };
}

/** `bSuppressed`: "the use of this account is currently disabled"; absent or null means not. */
function readSuppressed(detail: Record<string, unknown>, where: string): boolean {
  const value = detail.bSuppressed;
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  throw new ContractViolation(
    `${where}.bSuppressed: expected a boolean, received ${describeJsonType(value)}`,
  );
}
