import type { ProviderConfigOf } from '../../config.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { expectRecord, isJsonNumber } from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { badResponse } from '../bad-response.js';
import { readSessionGrant } from '../session-grant.js';
import { merchantErrorFor, readMerchantOutcome } from './envelope.js';

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
  const endpoint = 'Get Session Token';
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
  const outcome = readMerchantOutcome(response);
  if (outcome.code === 401 || outcome.code === 403) {
    throw new UpstreamError(
      'UPSTREAM_AUTH_FAILED',
      outcome.code === 401
        ? `${providerId}: the provider rejected the login (invalid ClientId or ClientSecret)`
        : `${providerId}: the provider refused the login (${outcome.label}); check that this client and its address are allowed`,
      { providerId, status: response.status },
    );
  }
  if (outcome.code !== 200) throw merchantErrorFor(providerId, endpoint, outcome, response);
  try {
    if (outcome.parseError !== undefined) throw outcome.parseError;
    const envelope = expectRecord(outcome.body, 'session body');
    if (!isJsonNumber(envelope.ResponseCode, 200)) {
      throw new ContractViolation('session body.ResponseCode: expected 200 in a successful answer');
    }
    const data = expectRecord(envelope.ResponseData, 'session body.ResponseData');
    const { token, lifetimeMs } = readSessionGrant(
      data,
      'SessionToken',
      'ExpiresIn',
      'session body.ResponseData',
    );
    return { token: { value: token, expiresAt: now() + lifetimeMs }, lifetimeMs };
  } catch (error) {
    throw badResponse(providerId, 'the login', error);
  }
}
