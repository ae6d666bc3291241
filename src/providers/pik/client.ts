import type { ProviderConfigOf } from '../../config.js';
import { CURRENCY_CODE_RULE, isCurrencyCode } from '../../currency.js';
import { UpstreamError, UpstreamTokenRejectedError } from '../../upstream/errors.js';
import type { UpstreamHttp, UpstreamResponse } from '../../upstream/http.js';
import { errorForStatus } from '../../upstream/http-errors.js';
import { parseLosslessJson, readCode } from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { badResponse } from '../bad-response.js';
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
    route: 'balance-list',
  });
  const body = parseEnvelope(config.id, response, 'the balance list');
  if (body === NOT_FOUND) {
    throw new UpstreamError('UPSTREAM_NOT_FOUND', `${config.id}: the balance list was not found`, {
      providerId: config.id,
      status: 404,
    });
  }
  try {
    return normalizePikBalanceList(body);
  } catch (error) {
    throw badResponse(config.id, 'the balance list', error);
  }
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
    headers: { authorization: `Bearer ${token}` },
    route: 'balance-by-currency',
  });
  const body = parseEnvelope(config.id, response, 'the balance by currency');
  if (body === NOT_FOUND) return [];
  try {
    return normalizePikBalanceByCurrency(body);
  } catch (error) {
    throw badResponse(config.id, 'the balance by currency', error);
  }
}

/**
 * A currency code as one path segment, which no value can turn into more (a slash) or into a walk
 * up the path: URL parsing reads ".", "..", "%2e" and "%2E%2e" as dots. The codes reaching here
 * were checked where they entered; a code that is not a currency code is a plain error, before
 * any call: the provider has done nothing wrong.
 */
export function currencyPathSegment(providerId: string, currency: string): string {
  const segment = encodeURIComponent(currency);
  if (!isCurrencyCode(currency) || /^(?:\.|%2e)+$/i.test(segment)) {
    throw new Error(
      `${providerId}: a currency code in a request path must be ${CURRENCY_CODE_RULE}`,
    );
  }
  return segment;
}

const NOT_FOUND = Symbol('not found');

/**
 * The envelope of a balance answer, mapped through PIK's error table: 401 (as HTTP status or
 * envelope code) rejects the token; 404 is "no such balance"; an HTTP 200 whose code is not 200 is
 * an error too.
 */
function parseEnvelope(
  providerId: string,
  response: UpstreamResponse,
  what: string,
): unknown | typeof NOT_FOUND {
  let body: unknown;
  try {
    body = parseLosslessJson(response.text);
  } catch (error) {
    if (response.status === 200) throw badResponse(providerId, what, error);
  }
  const code = readCode((body as { code?: unknown } | undefined)?.code);
  const effective = response.status === 200 && code !== undefined ? code : response.status;
  if (effective === 200) return body;
  if (effective === 401) {
    throw new UpstreamTokenRejectedError(`${providerId}: the provider rejected the access token`, {
      providerId,
      status: 401,
    });
  }
  if (effective === 404) return NOT_FOUND;
  throw errorForStatus(providerId, { ...response, status: effective }, what);
}
