import { ANSWER, type ErrorTable, fail, loginRejected, tokenRejected } from '../error-table.js';

/**
 * The JWT login: 401 rejects the email and password, for good.
 *   HTTP 401 {"message":"Unauthorized"}
 */
export const WALLET_LOGIN_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: loginRejected('email or password') },
];

/** What the balance rows need to know of the call. */
export interface WalletBalanceCall {
  walletId: string;
  /** "session": a 401 rejects the access token (one re-login); "api-key": a 401 is final. */
  mode: 'session' | 'api-key';
}

/**
 * The balances: 401 bad or expired credentials, 403 no access to the wallet, 404 unknown wallet.
 *   HTTP 404 {"message":"wallet not found"}
 */
export const WALLET_BALANCE_ERRORS: ErrorTable<WalletBalanceCall> = [
  { code: 200, means: ANSWER },
  {
    code: 401,
    means: ({ mode }) =>
      mode === 'session'
        ? tokenRejected('the access token')
        : fail('UPSTREAM_AUTH_FAILED', 'the provider rejected the API key'),
  },
  {
    code: 403,
    means: fail('UPSTREAM_AUTH_FAILED', 'the provider refused access to the wallet (HTTP 403)'),
  },
  {
    code: 404,
    means: ({ walletId }) =>
      fail(
        'UPSTREAM_NOT_FOUND',
        `wallet "${walletId}" was not found, or these credentials do not own it`,
      ),
  },
];
