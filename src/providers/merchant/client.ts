import type { ProviderConfigOf } from '../../config.js';
import { UpstreamError, UpstreamTokenRejectedError } from '../../upstream/errors.js';
import type { UpstreamHttp, UpstreamResponse } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { badResponse } from '../bad-response.js';
import { merchantErrorFor, readMerchantOutcome } from './envelope.js';
import { normalizeMerchantBalances } from './normalize.js';

/** The seed's Get Account Balance path; overridable per provider as `paths.balances`. */
export const MERCHANT_BALANCES_PATH = '/v2/account/balance';

/** The header a successful answer carries when the provider rotates the session. */
export const REFRESH_TOKEN_HEADER = 'x-refresh-token';

/** What a balance read tells the session about the token it was made with. */
export interface MerchantSessionEvents {
  /** A successful answer rotated the session: `refreshToken` replaces the token of this read. */
  onRefreshToken(refreshToken: string): void;
  /** The token is bound to another client address, so it is of no further use from this one. */
  onBoundToOtherAddress(): void;
}

/**
 * GET /v2/account/balance with `Authorization: Bearer <SessionToken>`, mapped by the effective
 * code (ResponseCode, else the HTTP status): 401 rejects the token (the session layer logs in once
 * more), 403 means the session belongs to another client address.
 */
export async function fetchMerchantBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'merchant'>,
  token: string,
  events: MerchantSessionEvents,
): Promise<NormalizedAccount[]> {
  const providerId = config.id;
  const endpoint = 'Get Account Balance';
  const response = await http.send({
    method: 'GET',
    path: config.paths.balances ?? MERCHANT_BALANCES_PATH,
    headers: { authorization: `Bearer ${token}` },
    route: 'balance',
  });
  const outcome = readMerchantOutcome(response);
  if (outcome.code === 401) {
    throw new UpstreamTokenRejectedError(
      `${providerId}: the provider rejected the session token (${outcome.label})`,
      { providerId, status: response.status },
    );
  }
  if (outcome.code === 403) {
    events.onBoundToOtherAddress();
    throw new UpstreamError(
      'UPSTREAM_AUTH_FAILED',
      `${providerId}: the provider refused the session (${outcome.label}): a session token works only from the client IP address that obtained it`,
      { providerId, status: response.status },
    );
  }
  if (outcome.code !== 200) throw merchantErrorFor(providerId, endpoint, outcome, response);
  // Adopt a rotation before reading the body: the old token dies at its expiry either way.
  const refreshToken = readRefreshToken(response);
  if (refreshToken !== undefined) events.onRefreshToken(refreshToken);
  try {
    if (outcome.parseError !== undefined) throw outcome.parseError;
    return normalizeMerchantBalances(outcome.body);
  } catch (error) {
    throw badResponse(providerId, 'the balance read', error);
  }
}

function readRefreshToken(response: UpstreamResponse): string | undefined {
  const header = response.headers[REFRESH_TOKEN_HEADER];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value === undefined || value === '' ? undefined : value;
}
