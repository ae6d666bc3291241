import { ANSWER, type ErrorTable, fail, loginRejected, tokenRejected } from '../error-table.js';

/**
 * The login: 401 rejects the username, password or one-time password, for good.
 *   HTTP 401 {"message":"invalid credentials"}
 */
export const ASSET_ACCOUNTS_LOGIN_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: loginRejected('username, password or one-time password') },
];

/**
 * The balances: 401 (an expired token, or an otp the provider did not accept) rejects the session
 * (one re-login, with a fresh code); 400 means the query parameters were refused.
 *   HTTP 400 {"message":"..."}
 */
export const ASSET_ACCOUNTS_BALANCE_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: tokenRejected('the access token or the one-time password') },
  {
    code: 400,
    means: ({ what }) =>
      fail(
        'UPSTREAM_BAD_RESPONSE',
        `the provider rejected the query parameters of ${what} (HTTP 400)`,
      ),
  },
];
