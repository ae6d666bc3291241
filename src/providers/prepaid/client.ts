import type { ProviderConfigOf } from '../../config/providers.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { PREPAID_BALANCE_ERRORS, PREPAID_BODY_CODE } from './errors.js';
import { normalizePrepaidBalance } from './normalize.js';

export const PREPAID_BALANCE_PATH = '/v1/balance';

/**
 * GET /v1/balance with the Basic header; errors are {"code","message"} with a 4xx/5xx status,
 * mapped through PREPAID_BALANCE_ERRORS.
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
  const answer = readAnswer(response, PREPAID_BODY_CODE);
  settleAnswer(PREPAID_BALANCE_ERRORS, answer, { providerId, what: 'the balance' });
  return readWithinContract(providerId, 'the balance', () =>
    normalizePrepaidBalance(answerBody(answer), config.currency),
  );
}
