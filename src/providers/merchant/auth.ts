import type { ProviderConfigOf } from '../../config/providers.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { expectRecord } from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, envelopeData, readAnswer, settleAnswer } from '../error-table.js';
import { readSessionGrant } from '../session-grant.js';
import { MERCHANT_ENVELOPE, MERCHANT_SESSION_ERRORS } from './errors.js';

/** The assumed Get Session Token path; overridable per provider as `paths.session`. */
export const MERCHANT_SESSION_PATH = '/v2/auth/session';

/** A session from Get Session Token, with the life the provider gives its sessions. */
export interface MerchantSession {
  token: SessionToken;
  /** `ExpiresIn` in ms; a token rotated in with `x-refresh-token` lives as long. */
  lifetimeMs: number;
}

/**
 * POST /v2/auth/session {"ClientId","ClientSecret"}
 *   -> 200 {"ResponseCode":200,"ResponseMessage":"Success",
 *           "ResponseData":{"SessionToken":"...","ExpiresIn":1800}}
 *   -> 401 / 403, as HTTP status or as ResponseCode under HTTP 200: the credentials are refused.
 * A refused login is final: it is never retried.
 */
export async function getMerchantSessionToken(
  http: UpstreamHttp,
  config: ProviderConfigOf<'merchant'>,
  now: () => number,
): Promise<MerchantSession> {
  const providerId = config.id;
  const response = await http.send({
    method: 'POST',
    path: config.paths.session ?? MERCHANT_SESSION_PATH,
    json: {
      ClientId: config.credentials.clientId,
      ClientSecret: config.credentials.clientSecret,
    },
    route: 'session',
    // A login is never repeated automatically.
    retry: 'never',
  });
  const answer = readAnswer(response, MERCHANT_ENVELOPE);
  settleAnswer(MERCHANT_SESSION_ERRORS, answer, { providerId, what: 'Get Session Token' });
  return readWithinContract(providerId, 'the login', () => {
    const data = expectRecord(
      envelopeData(answerBody(answer), MERCHANT_ENVELOPE, 'session body'),
      'session body.ResponseData',
    );
    const { token, lifetimeMs } = readSessionGrant(
      data,
      'SessionToken',
      'ExpiresIn',
      'session body.ResponseData',
    );
    return { token: { value: token, expiresAt: now() + lifetimeMs }, lifetimeMs };
  });
}
