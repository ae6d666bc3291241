import type { ProviderConfigOf } from '../../config.js';
import {
  ContractViolation,
  UpstreamError,
  UpstreamTokenRejectedError,
} from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { errorForStatus } from '../../upstream/http-errors.js';
import { parseLosslessJson } from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { badResponse } from '../bad-response.js';
import type { OtpSource } from './auth.js';
import { normalizeAssetAccountBalances } from './normalize.js';

/** The balances path of the seed; overridable per provider as `paths.balances`. */
export const ASSET_ACCOUNTS_BALANCES_PATH = '/api/v1/customer/accounts/balances';

/** A paginated read that has not ended after this many pages is broken, not long. */
export const MAX_BALANCE_PAGES = 1000;

/**
 * GET /api/v1/customer/accounts/balances with the bearer token and a fresh `otp` header. Without
 * a configured `pageSize` the whole list in one call; with one, pages 1, 2, ... until a page
 * shorter than `pageSize`.
 */
export async function fetchAssetAccountBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'asset-accounts'>,
  token: string,
  otp: OtpSource,
): Promise<NormalizedAccount[]> {
  const { pageSize } = config;
  if (pageSize === undefined) {
    const body = await getBalances(http, config, token, otp, undefined, 'the balances');
    try {
      return normalizeAssetAccountBalances(body);
    } catch (error) {
      throw badResponse(config.id, 'the balances', error);
    }
  }
  const accounts: NormalizedAccount[] = [];
  for (let pageNumber = 1; pageNumber <= MAX_BALANCE_PAGES; pageNumber += 1) {
    const what = `page ${pageNumber} of the balances`;
    const query = { pageNumber: String(pageNumber), pageSize: String(pageSize) };
    const body = await getBalances(http, config, token, otp, query, what);
    let page: NormalizedAccount[];
    try {
      page = normalizeAssetAccountBalances(body);
      if (page.length > pageSize) {
        throw new ContractViolation(
          `body.details: expected at most ${pageSize} details on a page, received ${page.length}`,
        );
      }
    } catch (error) {
      throw badResponse(config.id, what, error);
    }
    accounts.push(...page);
    if (page.length < pageSize) return accounts;
  }
  throw new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${config.id}: the balances did not end within ${MAX_BALANCE_PAGES} pages of ${pageSize}`,
    { providerId: config.id },
  );
}

/**
 * One balances request, mapped through the provider's error table: 401 (expired token, or an
 * OTP the provider did not accept) rejects the session; 400 means the query was refused.
 */
async function getBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'asset-accounts'>,
  token: string,
  otp: OtpSource,
  query: Record<string, string> | undefined,
  what: string,
): Promise<unknown> {
  const providerId = config.id;
  const response = await http.send({
    method: 'GET',
    path: config.paths.balances ?? ASSET_ACCOUNTS_BALANCES_PATH,
    ...(query === undefined ? {} : { query }),
    // The code is made at send time, again for each retry: each request needs one valid now.
    headers: () => ({ authorization: `Bearer ${token}`, otp: otp() }),
    route: 'balances',
  });
  if (response.status === 200) {
    try {
      return parseLosslessJson(response.text);
    } catch (error) {
      throw badResponse(providerId, what, error);
    }
  }
  if (response.status === 401) {
    throw new UpstreamTokenRejectedError(
      `${providerId}: the provider rejected the access token or the one-time password`,
      { providerId, status: 401 },
    );
  }
  if (response.status === 400) {
    throw new UpstreamError(
      'UPSTREAM_BAD_RESPONSE',
      `${providerId}: the provider rejected the query parameters of ${what} (HTTP 400)`,
      { providerId, status: 400 },
    );
  }
  throw errorForStatus(providerId, response, what);
}
