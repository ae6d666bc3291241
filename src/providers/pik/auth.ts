import type { ProviderConfigOf } from '../../config.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { errorForStatus } from '../../upstream/http-errors.js';
import {
  expectRecord,
  isJsonNumber,
  parseLosslessJson,
  readCode,
  tryParseLosslessJson,
} from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { badResponse } from '../bad-response.js';
import { readSessionGrant } from '../session-grant.js';

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
  const body =
    response.status === 200 || response.status === 401
      ? tryParseLosslessJson(response.text)
      : undefined;
  const code = readCode((body as { code?: unknown } | undefined)?.code);
  if (response.status === 401 || (response.status === 200 && code === 401)) {
    throw new UpstreamError(
      'UPSTREAM_AUTH_FAILED',
      `${providerId}: the provider rejected the login (invalid appId or appSecret)`,
      { providerId, status: 401 },
    );
  }
  if (response.status !== 200) throw errorForStatus(providerId, response, 'the login');
  try {
    const envelope = expectRecord(parseLosslessJson(response.text), 'login body');
    if (!isJsonNumber(envelope.code, 200)) {
      throw new ContractViolation('login body.code: expected 200 in a successful answer');
    }
    const data = expectRecord(envelope.data, 'login body.data');
    const grant = readSessionGrant(data, 'accessToken', 'expiresIn', 'login body.data');
    return { value: grant.token, expiresAt: now() + grant.lifetimeMs };
  } catch (error) {
    throw badResponse(providerId, 'the login', error);
  }
}
