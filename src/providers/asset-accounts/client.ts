import type { ProviderConfigOf } from '../../config/providers.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import type { OtpSource } from './auth.js';
import { ASSET_ACCOUNTS_BALANCE_ERRORS } from './errors.js';
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
    return readWithinContract(config.id, 'the balances', () => normalizeAssetAccountBalances(body));
  }
  const accounts: NormalizedAccount[] = [];
  for (let pageNumber = 1; pageNumber <= MAX_BALANCE_PAGES; pageNumber += 1) {
    const what = `page ${pageNumber} of the balances`;
    const query = { pageNumber: String(pageNumber), pageSize: String(pageSize) };
    const body = await getBalances(http, config, token, otp, query, what);
    const page = readWithinContract(config.id, what, () => {
      const details = normalizeAssetAccountBalances(body);
      if (details.length > pageSize) {
        throw new ContractViolation(
          `body.details: expected at most ${pageSize} details on a page, received ${details.length}`,
        );
      }
      return details;
    });
    accounts.push(...page);
    if (page.length < pageSize) return accounts;
  }
  throw new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${config.id}: the balances did not end within ${MAX_BALANCE_PAGES} pages of ${pageSize}`,
    { providerId: config.id },
  );
}

/** One balances request, mapped through ASSET_ACCOUNTS_BALANCE_ERRORS. */
async function getBalances(
  http: UpstreamHttp,
  config: ProviderConfigOf<'asset-accounts'>,
  token: string,
  otp: OtpSource,
  query: Record<string, string> | undefined,
  what: string,
): Promise<unknown> {
  const response = await http.send({
    method: 'GET',
    path: config.paths.balances ?? ASSET_ACCOUNTS_BALANCES_PATH,
    ...(query === undefined ? {} : { query }),
    // The code is made at send time, again for each retry: each request needs one valid now.
    headers: () => ({ authorization: `Bearer ${token}`, otp: otp() }),
    route: 'balances',
  });
  const answer = readAnswer(response);
  settleAnswer(ASSET_ACCOUNTS_BALANCE_ERRORS, answer, { providerId: config.id, what });
  return readWithinContract(config.id, what, () => answerBody(answer));
}
