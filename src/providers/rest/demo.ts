import type { LedgerlySimulatorOptions } from './sandbox.js';

/**
 * The demo Ledgerly client's id and secret: public sandbox values, never real ones. The rest
 * kind's simulator is Ledgerly (docs/sandbox-rest.md), an OAuth2 client-credentials API.
 */
export const LEDGERLY_DEMO_CREDENTIALS = {
  clientId: 'demo-ledgerly-client',
  clientSecret: 'demo-ledgerly-secret',
} as const;

/** The scope a balance read needs; the demo client is also granted one it never asks for. */
export const LEDGERLY_READ_SCOPE = 'balances:read';

/** What the Ledgerly simulator is started with, but the sandbox's clock. */
export type LedgerlySandboxData = Omit<LedgerlySimulatorOptions, 'clock'>;

/**
 * Ledgerly's demo data: six accounts (three pages at the default page size of 2), each holding
 * per-currency positions in minor units with the position's own exponent. The amounts break
 * floats: EUR 9007199254740993.01 (beyond 2^53), ETH 0.000000000000000001 (exponent 18), USDT
 * 1000000000000000000.000001 (25 digits), HKD 0.1 (exponent 1) and 0.20 (exponent 2) in two
 * accounts, which total 0.30; a credit line below zero; and an account with no positions.
 */
export function createLedgerlyDemoData(): LedgerlySandboxData {
  return {
    clients: [
      {
        ...LEDGERLY_DEMO_CREDENTIALS,
        scopes: [LEDGERLY_READ_SCOPE, 'payments:write'],
        accounts: [
          {
            id: 'lg_acc_1001',
            name: 'Operating',
            type: 'operating',
            state: 'open',
            positions: [
              {
                currency: 'USD',
                network: null,
                exponent: 2,
                ledger: '1234567',
                available: '1204567',
                reserved: '25000',
                pending: '5000',
                asOf: '2026-11-20T09:47:15Z',
              },
              {
                currency: 'EUR',
                network: null,
                exponent: 2,
                ledger: '900719925474099301',
                available: '900719925474099301',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-19T12:00:00Z',
              },
              {
                currency: 'JPY',
                network: null,
                exponent: 0,
                ledger: '123456789',
                available: '123456789',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-19T12:00:00Z',
              },
            ],
          },
          {
            id: 'lg_acc_1002',
            name: 'Crypto custody',
            type: 'custody',
            state: 'open',
            positions: [
              {
                currency: 'ETH',
                network: 'ETH',
                exponent: 18,
                ledger: '1',
                available: '1',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-18T08:30:00Z',
                depositAddress: {
                  address: '0x52908400098527886E0F7030069857D2E4169EE7',
                  memo: null,
                },
              },
              {
                currency: 'USDT',
                network: 'TRX',
                exponent: 6,
                ledger: '1000000000000000000000001',
                available: '999999999999999999999999',
                reserved: '2',
                pending: '0',
                asOf: '2026-11-18T08:30:00Z',
                depositAddress: { address: 'TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7', memo: '104882' },
              },
            ],
          },
          {
            id: 'lg_acc_1003',
            name: 'Petty cash HK',
            type: 'operating',
            state: 'open',
            positions: [
              {
                currency: 'HKD',
                network: null,
                exponent: 1,
                ledger: '1',
                available: '1',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-17T16:20:00Z',
              },
            ],
          },
          {
            id: 'lg_acc_1004',
            name: 'Credit line',
            type: 'credit',
            state: 'open',
            positions: [
              {
                currency: 'USD',
                network: null,
                exponent: 2,
                ledger: '-250000',
                available: '750000',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-20T00:00:00Z',
              },
              {
                currency: 'HKD',
                network: null,
                exponent: 2,
                ledger: '20',
                available: '20',
                reserved: '0',
                pending: '0',
                asOf: '2026-11-20T00:00:00Z',
              },
            ],
          },
          {
            id: 'lg_acc_1005',
            name: 'Frozen reserve',
            type: 'reserve',
            state: 'frozen',
            positions: [
              {
                currency: 'KWD',
                network: null,
                exponent: 3,
                ledger: '1234',
                available: '0',
                reserved: '1234',
                pending: '0',
                asOf: '2026-11-01T10:00:00Z',
              },
            ],
          },
          {
            id: 'lg_acc_1006',
            name: 'Closed EUR',
            type: 'operating',
            state: 'closed',
            positions: [],
          },
        ],
      },
    ],
  };
}

/**
 * The demo tenant's rest providers, at the Ledgerly simulator at `baseUrl`: one `rest`
 * configuration that logs in with OAuth2 client credentials and walks the account pages.
 */
export function ledgerlyDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [ledgerlyRestProvider(baseUrl)];
}

/**
 * The demo `rest` configuration of Ledgerly: OAuth2 client credentials in HTTP Basic, the wanted
 * currencies in one `currency` query parameter, cursor pages of two accounts, errors inside HTTP
 * 200 (TOKEN_EXPIRED and TOKEN_INVALID: log in again once), and amounts in minor units scaled by
 * each position's own exponent. `paths` is left out: the kind's defaults are Ledgerly's.
 */
export function ledgerlyRestProvider(baseUrl: string): Record<string, unknown> {
  const minorUnits = (pointer: string) => ({
    at: pointer,
    minorUnits: { exponentAt: '/exponent' },
  });
  return {
    id: 'ledgerly',
    kind: 'rest',
    name: 'Ledgerly',
    baseUrl,
    credentials: { ...LEDGERLY_DEMO_CREDENTIALS },
    auth: {
      type: 'oauth2ClientCredentials',
      clientId: '{credentials.clientId}',
      clientSecret: '{credentials.clientSecret}',
      clientAuth: 'basic',
      scope: LEDGERLY_READ_SCOPE,
    },
    request: { currencies: { in: 'query', name: 'currency', style: 'comma' } },
    pagination: {
      type: 'cursor',
      param: 'cursor',
      nextAt: '/page/next_cursor',
      sizeParam: 'limit',
      size: 2,
      maxPages: 20,
    },
    envelope: { statusAt: '/status', success: ['ok'], codeAt: '/error/code' },
    errors: [
      { status: 200, code: ['TOKEN_EXPIRED', 'TOKEN_INVALID'], means: 'relogin' },
      {
        status: 200,
        code: 'INSUFFICIENT_SCOPE',
        means: 'UPSTREAM_AUTH_FAILED',
        message: 'the token was granted without the balances:read scope',
      },
      {
        status: 200,
        code: 'RATE_LIMITED',
        means: 'UPSTREAM_RATE_LIMITED',
        retryAfterAt: '/error/retry_after',
      },
      {
        status: 200,
        code: 'INVALID_CURSOR',
        means: 'UPSTREAM_BAD_RESPONSE',
        message: 'the provider refused the cursor it handed out',
      },
      {
        status: 200,
        code: 'INVALID_PARAMETER',
        means: 'UPSTREAM_BAD_RESPONSE',
        message: 'the provider refused a query parameter of the balance request',
      },
    ],
    mapping: {
      accounts: '/data/accounts',
      accountId: '/account_id',
      accountName: '/display_name',
      accountType: '/account_type',
      accountStatus: '/state',
      balances: '/positions',
      currency: '/asset/code',
      network: '/asset/network',
      total: minorUnits('/ledger'),
      available: minorUnits('/available'),
      components: { RESERVED: minorUnits('/reserved'), PENDING: minorUnits('/pending') },
      updatedAt: '/as_of',
      depositAddresses: { at: '/deposit_address', address: '/address', memo: '/memo' },
    },
  };
}
