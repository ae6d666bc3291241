import { foldCurrency } from '../../currency.js';
import {
  expectArray,
  expectRecord,
  readAmount,
  readOptionalDate,
  readOptionalString,
  readString,
} from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { envelopeData } from '../error-table.js';
import { PIK_ENVELOPE } from './errors.js';

/**
 * One balance record is one account with one balance.
 *   {"balanceNo":"B-1","accountType":"GLOBAL","accountName":"USD account","currencyCode":"USD",
 *    "networkCode":"","balance":1500.25,"availableBalance":1200.25,"frozenBalance":100,
 *    "pendingBalance":200,"status":"ACTIVE","lastChangeTime":"2026-05-27T09:47:15.000Z",...}
 */
export function normalizePikRecord(value: unknown, where: string): NormalizedAccount {
  const record = expectRecord(value, where);
  return {
    upstreamId: readString(record, 'balanceNo', where),
    name: readOptionalString(record, 'accountName', where),
    type: readOptionalString(record, 'accountType', where),
    status: readOptionalString(record, 'status', where),
    suppressed: false,
    balances: [
      {
        currency: foldCurrency(readString(record, 'currencyCode', where)),
        // Fiat records carry an empty or null networkCode.
        network: readOptionalString(record, 'networkCode', where),
        total: readAmount(record, 'balance', where),
        available: readAmount(record, 'availableBalance', where),
        components: [
          { kind: 'FROZEN', amount: readAmount(record, 'frozenBalance', where) },
          { kind: 'PENDING', amount: readAmount(record, 'pendingBalance', where) },
        ],
        depositAddresses: [],
        updatedAt: readOptionalDate(record, 'lastChangeTime'),
        raw: record,
      },
    ],
  };
}

/**
 * List Account Balances: the `data` of a successful envelope is an array of records.
 *   {"code":200,"message":"success","data":[<record>, ...]}
 */
export function normalizePikBalanceList(body: unknown): NormalizedAccount[] {
  return expectArray(envelopeData(body, PIK_ENVELOPE, 'body'), 'body.data').map((record, index) =>
    normalizePikRecord(record, `body.data[${index}]`),
  );
}

/** Get Balance by Currency: the `data` of a successful envelope is one record. */
export function normalizePikBalanceByCurrency(body: unknown): NormalizedAccount[] {
  return [normalizePikRecord(envelopeData(body, PIK_ENVELOPE, 'body'), 'body.data')];
}
