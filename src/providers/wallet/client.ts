import type { ProviderConfigOf } from '../../config/providers.js';
import { foldCurrency } from '../../currency.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { WALLET_BALANCE_ERRORS, type WalletBalanceCall } from './errors.js';
import { normalizeWalletBalances } from './normalize.js';

/** The seed's balances path; overridable per provider as `paths.balances`. */
export const WALLET_BALANCES_PATH = '/v2/balance';

export interface WalletCallAuth {
  headers: Record<string, string>;
  /**
   * "session": a 401 rejects the cached access token, so the session layer logs in again once.
   * "api-key": a 401 is final, as there is nothing to renew.
   */
  mode: WalletBalanceCall['mode'];
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
  const answer = readAnswer(response);
  settleAnswer(WALLET_BALANCE_ERRORS, answer, {
    providerId,
    what: 'the balances',
    walletId: config.walletId,
    mode: auth.mode,
  });
  return readWithinContract(providerId, 'the balances', () =>
    normalizeWalletBalances(answerBody(answer), config.walletId),
  );
}
