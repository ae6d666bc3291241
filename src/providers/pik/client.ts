import type { ProviderConfigOf } from '../../config/providers.js';
import { CURRENCY_CODE_RULE, isCurrencyCode } from '../../currency.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { PIK_BALANCE_BY_CURRENCY_ERRORS, PIK_BALANCE_LIST_ERRORS, PIK_ENVELOPE } from './errors.js';
import { normalizePikBalanceByCurrency, normalizePikBalanceList } from './normalize.js';

/** PIK's paths; each is overridable per provider under `paths`. */
export const PIK_BALANCE_LIST_PATH = '/api/v1/balance/list';
export const PIK_BALANCE_BY_CURRENCY_PATH = '/api/v1/balance/{currencyCode}';

/** GET /api/v1/balance/list with the bearer token. */
export async function fetchPikBalanceList(
  http: UpstreamHttp,
  config: ProviderConfigOf<'pik'>,
  token: string,
): Promise<NormalizedAccount[]> {
  const response = await http.send({
    method: 'GET',
    path: config.paths.balanceList ?? PIK_BALANCE_LIST_PATH,
    headers: { authorization: `Bearer ${token}` },
    route: 'balanceList',
  });
  const what = 'the balance list';
  const answer = readAnswer(response, PIK_ENVELOPE);
  settleAnswer(PIK_BALANCE_LIST_ERRORS, answer, { providerId: config.id, what });
  return readWithinContract(config.id, what, () => normalizePikBalanceList(answerBody(answer)));
}

/** GET /api/v1/balance/{currencyCode}; a currency the customer does not hold gives no account. */
export async function fetchPikBalanceByCurrency(
  http: UpstreamHttp,
  config: ProviderConfigOf<'pik'>,
  token: string,
  currency: string,
): Promise<NormalizedAccount[]> {
  const template = config.paths.balanceByCurrency ?? PIK_BALANCE_BY_CURRENCY_PATH;
  const response = await http.send({
    method: 'GET',
    path: template.replace('{currencyCode}', () => currencyPathSegment(config.id, currency)),
    template,
    headers: { authorization: `Bearer ${token}` },
    route: 'balanceByCurrency',
  });
  const what = 'the balance by currency';
  const answer = readAnswer(response, PIK_ENVELOPE);
  const outcome = settleAnswer(PIK_BALANCE_BY_CURRENCY_ERRORS, answer, {
    providerId: config.id,
    what,
  });
  if (outcome === 'absent') return [];
  return readWithinContract(config.id, what, () =>
    normalizePikBalanceByCurrency(answerBody(answer)),
  );
}

/**
 * A currency code as one path segment, which no value can turn into more (a slash) or into a walk
 * up the path (URL parsing reads ".", "..", "%2e" and "%2E%2e" as dots): the currency code rule
 * has neither "." nor "%", and the segment is encoded all the same. The codes reaching here were
 * checked where they entered; a code that is not a currency code is a plain error, before any
 * call: the provider has done nothing wrong.
 */
export function currencyPathSegment(providerId: string, currency: string): string {
  if (!isCurrencyCode(currency)) {
    throw new Error(
      `${providerId}: a currency code in a request path must be ${CURRENCY_CODE_RULE}`,
    );
  }
  return encodeURIComponent(currency);
}
