import type { ProviderConfigOf } from '../../config/providers.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { expectRecord } from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, envelopeData, readAnswer, settleAnswer } from '../error-table.js';
import { readSessionGrant } from '../session-grant.js';
import { PIK_ENVELOPE, PIK_LOGIN_ERRORS } from './errors.js';

/** PIK's assumed login path; overridable per provider as `paths.login`. */
export const PIK_LOGIN_PATH = '/api/v1/auth/token';

/**
 * POST /api/v1/auth/token {"appId","appSecret"}
 *   -> 200 {"code":200,"data":{"accessToken":"...","tokenType":"Bearer","expiresIn":7200}}
 *   -> 401 {"code":401,"message":"invalid credentials","data":null}
 */
export async function loginToPik(
  http: UpstreamHttp,
  config: ProviderConfigOf<'pik'>,
  now: () => number,
): Promise<SessionToken> {
  const providerId = config.id;
  const response = await http.send({
    method: 'POST',
    path: config.paths.login ?? PIK_LOGIN_PATH,
    json: { appId: config.credentials.appId, appSecret: config.credentials.appSecret },
    route: 'login',
    // A login is never repeated automatically.
    retry: 'never',
  });
  const answer = readAnswer(response, PIK_ENVELOPE);
  settleAnswer(PIK_LOGIN_ERRORS, answer, { providerId, what: 'the login' });
  return readWithinContract(providerId, 'the login', () => {
    const data = expectRecord(
      envelopeData(answerBody(answer), PIK_ENVELOPE, 'login body'),
      'login body.data',
    );
    const grant = readSessionGrant(data, 'accessToken', 'expiresIn', 'login body.data');
    return { value: grant.token, expiresAt: now() + grant.lifetimeMs };
  });
}
