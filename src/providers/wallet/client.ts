import type { ProviderConfigOf } from '../../config.js';
import { foldCurrency } from '../../currency.js';
import { UpstreamError, UpstreamTokenRejectedError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { errorForStatus } from '../../upstream/http-errors.js';
import { parseLosslessJson } from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { badResponse } from '../bad-response.js';
import { normalizeWalletBalances } from './normalize.js';

/** The seed's balances path; overridable per provider as `paths.balances`. */
export const WALLET_BALANCES_PATH = '/v2/balance';

export interface WalletCallAuth {
  headers: Record<string, string>;
  /**
   * "session": a 401 rejects the cached access token, so the session layer logs in again once.
   * "api-key": a 401 is final, as there is nothing to renew.
   */
  mode: 'session' | 'api-key';
}

/**
 * POST /v2/balance {"walletId":"...","assets":["USDT","BTC"]}. Without currencies (the whole
 * wallet) the body has no `assets` field. Errors: 401 {"message":"Unauthorized"}, 404
 * {"message":"wallet not found"}, 429 with Retry-After.
 */
export async function fetchWalletBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'wallet'>,
  auth: WalletCallAuth,
  currencies: readonly string[] | null,
): Promise<NormalizedAccount[]> {
  const providerId = config.id;
  const body: { walletId: string; assets?: string[] } = { walletId: config.walletId };
  if (currencies !== null) {
    body.assets = [...new Set(currencies.map(foldCurrency))];
  }
  const response = await http.send({
    method: 'POST',
    path: config.paths.balances ?? WALLET_BALANCES_PATH,
    headers: auth.headers,
    json: body,
    route: 'balances',
  });
  if (response.status === 200) {
    try {
      return normalizeWalletBalances(parseLosslessJson(response.text), config.walletId);
    } catch (error) {
      throw badResponse(providerId, 'the balances', error);
    }
  }
  if (response.status === 401) {
    if (auth.mode === 'session') {
      throw new UpstreamTokenRejectedError(
        `${providerId}: the provider rejected the access token`,
        { providerId, status: 401 },
      );
    }
    throw new UpstreamError(
      'UPSTREAM_AUTH_FAILED',
      `${providerId}: the provider rejected the API key`,
      {
        providerId,
        status: 401,
      },
    );
  }
  if (response.status === 403) {
    throw new UpstreamError(
      'UPSTREAM_AUTH_FAILED',
      `${providerId}: the provider refused access to the wallet (HTTP 403)`,
      { providerId, status: 403 },
    );
  }
  if (response.status === 404) {
    throw new UpstreamError(
      'UPSTREAM_NOT_FOUND',
      `${providerId}: wallet "${config.walletId}" was not found, or these credentials do not own it`,
      { providerId, status: 404 },
    );
  }
  throw errorForStatus(providerId, response, 'the balances');
}
