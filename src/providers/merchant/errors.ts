import {
  ANSWER,
  type Envelope,
  type ErrorRow,
  type ErrorTable,
  fail,
  loginRejected,
  tokenRejected,
} from '../error-table.js';

/**
 * The merchant envelope. Its `ResponseCode` is authoritative: some deployments answer HTTP 200
 * with an error code, so it decides under any status, and messages name it beside the status.
 *   HTTP 200 {"ResponseCode":401,"ResponseMessage":"Unauthorized","ResponseData":null}
 */
export const MERCHANT_ENVELOPE: Envelope = {
  field: 'ResponseCode',
  dataField: 'ResponseData',
  decides: 'always',
};

/** Both endpoints: 404 or 410, the merchant account is gone. */
const NOT_FOUND: ErrorRow = {
  code: [404, 410],
  means: ({ what, label }) =>
    fail('UPSTREAM_NOT_FOUND', `${what} found no merchant account (${label})`),
};

/** Get Session Token: 401 rejects the credentials; 403 refuses this client or its address. */
export const MERCHANT_SESSION_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: loginRejected('ClientId or ClientSecret') },
  {
    code: 403,
    means: ({ label }) =>
      fail(
        'UPSTREAM_AUTH_FAILED',
        `the provider refused the login (${label}); check that this client and its address are allowed`,
      ),
  },
  NOT_FOUND,
];

/**
 * Get Account Balance: 401 rejects the session token (one re-login); 403 means the session belongs
 * to another client address, so it is of no further use from this one and is dropped.
 */
export const MERCHANT_BALANCE_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  { code: 401, means: ({ label }) => tokenRejected(`the session token (${label})`) },
  {
    code: 403,
    means: ({ label }) =>
      fail(
        'UPSTREAM_AUTH_FAILED',
        `the provider refused the session (${label}): a session token works only from the client IP address that obtained it`,
        { dropsSession: true },
      ),
  },
  NOT_FOUND,
];
