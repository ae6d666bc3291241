import type { ProviderConfigOf } from '../../config/providers.js';
import type { UpstreamHttp, UpstreamResponse } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { MERCHANT_BALANCE_ERRORS, MERCHANT_ENVELOPE } from './errors.js';
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
 * GET /v2/account/balance with `Authorization: Bearer <SessionToken>`, mapped through
 * MERCHANT_BALANCE_ERRORS by the ResponseCode, else the HTTP status.
 */
export async function fetchMerchantBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'merchant'>,
  token: string,
  events: MerchantSessionEvents,
): Promise<NormalizedAccount[]> {
  const providerId = config.id;
  const response = await http.send({
    method: 'GET',
    path: config.paths.balances ?? MERCHANT_BALANCES_PATH,
    headers: { authorization: `Bearer ${token}` },
    route: 'balances',
  });
  const answer = readAnswer(response, MERCHANT_ENVELOPE);
  settleAnswer(
    MERCHANT_BALANCE_ERRORS,
    answer,
    { providerId, what: 'Get Account Balance' },
    // The next read then starts a session from this process's current address.
    () => events.onBoundToOtherAddress(),
  );
  // Adopt a rotation before reading the body: the old token dies at its expiry either way.
  const refreshToken = readRefreshToken(response);
  if (refreshToken !== undefined) events.onRefreshToken(refreshToken);
  return readWithinContract(providerId, 'the balance read', () =>
    normalizeMerchantBalances(answerBody(answer)),
  );
}

function readRefreshToken(response: UpstreamResponse): string | undefined {
  const header = response.headers[REFRESH_TOKEN_HEADER];
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value === undefined || value === '' ? undefined : value;
}
