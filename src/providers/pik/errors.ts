import {
  ABSENT,
  ANSWER,
  type Envelope,
  type ErrorTable,
  fail,
  loginRejected,
  tokenRejected,
} from '../error-table.js';

/**
 * PIK's envelope: `{"code":200,"message":"success","data":...}`. In an HTTP 200 answer its code
 * stands for the status ("an HTTP 200 whose envelope code is not 200 is an error too"); under any
 * other status the status decides.
 */
export const PIK_ENVELOPE: Envelope = {
  field: 'code',
  dataField: 'data',
  decides: 'under-http-200',
};

/**
 * List Account Balances: 401 (expired or unknown token) rejects the token, 404 is not found.
 *   HTTP 401 {"code":401,"message":"token expired","data":null}
 */
export const PIK_BALANCE_LIST_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: tokenRejected('the access token') },
  { code: 404, means: ({ what }) => fail('UPSTREAM_NOT_FOUND', `${what} was not found`) },
];

/**
 * Get Balance by Currency: a 404 means the customer holds no such currency, so no account.
 *   HTTP 404 {"code":404,"message":"balance not found","data":null}
 */
export const PIK_BALANCE_BY_CURRENCY_ERRORS: ErrorTable = [
  { code: 404, means: ABSENT },
  ...PIK_BALANCE_LIST_ERRORS,
];

/**
 * The login: 401, as status or as code under HTTP 200, rejects the credentials. Any other code
 * under HTTP 200 is a success envelope that breaks the contract, not an error of its own.
 *   HTTP 401 {"code":401,"message":"invalid credentials","data":null}
 */
export const PIK_LOGIN_ERRORS: ErrorTable = [
  { code: 401, means: loginRejected('appId or appSecret') },
  { httpStatus: 200, means: ANSWER },
];
