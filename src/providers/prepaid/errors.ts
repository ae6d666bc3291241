import { ANSWER, type BodyCode, type ErrorTable, fail } from '../error-table.js';

/** Error bodies are {"code":<int>,"message":"..."}: the code refines the HTTP status. */
export const PREPAID_BODY_CODE: BodyCode = { field: 'code', decides: 'never' };

/**
 * The balance, by HTTP status and body code (the seed's table): 2001/401 authentication failed,
 * 2002/401 key expired or disabled, 2002/403 merchant deleted, 1000/500 internal error (retry
 * later: the shared 5xx mapping).
 */
export const PREPAID_BALANCE_ERRORS: ErrorTable = [
  { code: 200, means: ANSWER },
  {
    code: 401,
    bodyCode: 2002,
    means: fail('UPSTREAM_AUTH_FAILED', 'the dev key has expired or was disabled'),
  },
  { code: 401, means: fail('UPSTREAM_AUTH_FAILED', 'the dev key or secret was rejected') },
  {
    code: 403,
    bodyCode: 2002,
    means: fail('UPSTREAM_NOT_FOUND', 'the merchant account has been deleted'),
  },
  { code: 403, means: fail('UPSTREAM_AUTH_FAILED', 'the provider refused access (HTTP 403)') },
];
