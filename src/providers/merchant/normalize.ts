import { foldCurrency } from '../../currency.js';
import {
  expectArray,
  expectRecord,
  readAmount,
  readOptionalString,
  readString,
} from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { envelopeData } from '../error-table.js';
import { MERCHANT_ENVELOPE } from './errors.js';

/**
 * One Get Account Balance entry is one account with one balance; the amounts are decimal strings.
 *   {"Balance":"12386.00","ReservedAmount":"30.00","AvailableBalance":"12356.00",
 *    "Currency":"USD","Name":"Account (USD)","Id":"417971020"}
 */
export function normalizeMerchantEntry(value: unknown, where: string): NormalizedAccount {
  const entry = expectRecord(value, where);
  return {
    upstreamId: readString(entry, 'Id', where),
    name: readOptionalString(entry, 'Name', where),
    type: undefined,
    status: undefined,
    suppressed: false,
    balances: [
      {
        currency: foldCurrency(readString(entry, 'Currency', where)),
        network: undefined,
        // The seed: Balance is the total, reserved plus available.
        total: readAmount(entry, 'Balance', where),
        available: readAmount(entry, 'AvailableBalance', where),
        components: [{ kind: 'RESERVED', amount: readAmount(entry, 'ReservedAmount', where) }],
        depositAddresses: [],
        updatedAt: undefined,
        raw: entry,
      },
    ],
  };
}

/**
 * A successful Get Account Balance body: the `ResponseData` of a successful envelope.
 *   {"ResponseCode":200,"ResponseMessage":"Success","ResponseData":[<entry>, ...]}
 */
export function normalizeMerchantBalances(body: unknown): NormalizedAccount[] {
  const data = envelopeData(body, MERCHANT_ENVELOPE, 'body');
  return expectArray(data, 'body.ResponseData').map((entry, index) =>
    normalizeMerchantEntry(entry, `body.ResponseData[${index}]`),
  );
}
