import type { ProviderConfigOf } from '../../config.js';
import { UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { errorForStatus } from '../../upstream/http-errors.js';
import { parseLosslessJson, readCode, tryParseLosslessJson } from '../../upstream/json.js';
import type { NormalizedAccount } from '../adapter.js';
import { badResponse } from '../bad-response.js';
import { normalizePrepaidBalance } from './normalize.js';

export const PREPAID_BALANCE_PATH = '/v1/balance';

/**
 * GET /v1/balance with the Basic header. Errors are {"code","message"} with a 4xx/5xx status:
 * 2001/401 and 2002/401 reject the key, 2002/403 means the merchant was deleted, 1000/500 is an
 * internal error worth retrying later.
 */
export async function fetchPrepaidBalance(
  http: UpstreamHttp,
  config: ProviderConfigOf<'prepaid'>,
  authorization: string,
): Promise<NormalizedAccount[]> {
  const providerId = config.id;
  const response = await http.send({
    method: 'GET',
    path: config.paths.balance ?? PREPAID_BALANCE_PATH,
    headers: { authorization },
    route: 'balance',
  });
  if (response.status === 200) {
    try {
      return normalizePrepaidBalance(parseLosslessJson(response.text), config.currency);
    } catch (error) {
      throw badResponse(providerId, 'the balance', error);
    }
  }
  const code = readCode((tryParseLosslessJson(response.text) as { code?: unknown } | null)?.code);
  if (response.status === 401) {
    const reason =
      code === 2002
        ? 'the dev key has expired or was disabled'
        : 'the dev key or secret was rejected';
    throw new UpstreamError('UPSTREAM_AUTH_FAILED', `${providerId}: ${reason}`, {
      providerId,
      status: 401,
    });
  }
  if (response.status === 403) {
    throw new UpstreamError(
      code === 2002 ? 'UPSTREAM_NOT_FOUND' : 'UPSTREAM_AUTH_FAILED',
      code === 2002
        ? `${providerId}: the merchant account has been deleted`
        : `${providerId}: the provider refused access (HTTP 403)`,
      { providerId, status: 403 },
    );
  }
  throw errorForStatus(providerId, response, 'the balance');
}
