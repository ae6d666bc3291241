import { foldCurrency } from '../../currency.js';
import type { Amount } from '../../money.js';
import {
  expectArray,
  expectRecord,
  memberPath,
  readAmount,
  readOptionalAmount,
  readOptionalString,
  readString,
} from '../../upstream/json.js';
import type { BalanceComponentKind, NormalizedAccount, NormalizedBalance } from '../adapter.js';

/** The component fields of a wallet entry and the kinds they report. */
const COMPONENT_FIELDS: readonly { field: string; kind: BalanceComponentKind; inTotal: boolean }[] =
  [
    // Funds in processing.
    { field: 'holdBalance', kind: 'HOLD', inTotal: true },
    // Funds blocked under the AML policy.
    { field: 'lockBalance', kind: 'LOCKED', inTotal: true },
    // The referral pot is reported beside the balance, never added to it.
    { field: 'referralBalance', kind: 'REFERRAL', inTotal: false },
  ];

/**
 * A successful `POST /v2/balance` answer is one account: the configured wallet, with one balance
 * per asset. The wallet names none of its own ids, so the caller passes the wallet id it asked for.
 *   {"data":[{"balance":"0.64","asset":"USDT","holdBalance":"0","lockBalance":"0",
 *    "referralBalance":"0","depositAddress":{"TRX":{"address":"TW6f...","memo":null}}}]}
 */
export function normalizeWalletBalances(body: unknown, walletId: string): NormalizedAccount[] {
  const envelope = expectRecord(body, 'body');
  const entries = expectArray(envelope.data, 'body.data');
  return [
    {
      upstreamId: walletId,
      name: undefined,
      type: undefined,
      status: undefined,
      suppressed: false,
      balances: entries.map((entry, index) => normalizeWalletAsset(entry, `body.data[${index}]`)),
    },
  ];
}

/**
 * One asset of the wallet: available = `balance`; total = available + HOLD + LOCKED. A component
 * field that is missing or null is left out rather than guessed.
 *   {"balance":"0.64","asset":"USDT","holdBalance":"0","lockBalance":"0","referralBalance":"0",
 *    "depositAddress":{"TRX":{"address":"TW6f...","memo":null}}}
 */
export function normalizeWalletAsset(value: unknown, where: string): NormalizedBalance {
  const entry = expectRecord(value, where);
  const available = readAmount(entry, 'balance', where);
  const components: NormalizedBalance['components'] = [];
  let total: Amount = available;
  for (const { field, kind, inTotal } of COMPONENT_FIELDS) {
    const amount = readOptionalAmount(entry, field, where);
    if (amount === undefined) continue;
    components.push({ kind, amount });
    if (inTotal) total = total.plus(amount);
  }
  return {
    currency: foldCurrency(readString(entry, 'asset', where)),
    network: undefined,
    total,
    available,
    components,
    depositAddresses: normalizeDepositAddresses(entry.depositAddress, `${where}.depositAddress`),
    updatedAt: undefined,
    raw: entry,
  };
}

/**
 * `depositAddress` maps a network to its address and memo; it is absent, null or `{}` where no
 * address was generated, and a network whose value is null has none either.
 *   {"TRX":{"address":"TW6f...","memo":null},"XRP":{"address":"rEb8...","memo":"104234"}}
 */
export function normalizeDepositAddresses(
  value: unknown,
  where: string,
): NormalizedBalance['depositAddresses'] {
  if (value === undefined || value === null) return [];
  const byNetwork = expectRecord(value, where);
  const addresses: NormalizedBalance['depositAddresses'] = [];
  for (const [index, [network, item]] of Object.entries(byNetwork).entries()) {
    if (item === null) continue;
    const itemWhere = memberPath(where, network, index);
    const record = expectRecord(item, itemWhere);
    addresses.push({
      network,
      address: readString(record, 'address', itemWhere),
      memo: readOptionalString(record, 'memo', itemWhere),
    });
  }
  return addresses;
}
