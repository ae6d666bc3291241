import type { ProviderConfigOf } from '../../config/providers.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { expectRecord } from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { readSessionGrant } from '../session-grant.js';
import { WALLET_LOGIN_ERRORS } from './errors.js';

/** The wallet's assumed login path; overridable per provider as `paths.login`. */
export const WALLET_LOGIN_PATH = '/v2/auth/login';
/** The API key's assumed header; overridable per provider as `apiKeyHeader`. */
export const WALLET_API_KEY_HEADER = 'X-Api-Key';

/** How an instance authenticates, chosen by which credentials its configuration gives. */
export type WalletCredentials =
  | { mode: 'api-key'; apiKey: string }
  | { mode: 'login'; email: string; password: string };

export function walletCredentials(config: ProviderConfigOf<'wallet'>): WalletCredentials {
  // The configuration gives { apiKey } or { email, password }, never both nor neither.
  const { credentials } = config;
  return credentials.apiKey !== undefined
    ? { mode: 'api-key', apiKey: credentials.apiKey }
    : { mode: 'login', email: credentials.email, password: credentials.password };
}

/** `X-Api-Key: <apiKey>` (or the configured header), sent on every call; there is no login. */
export function walletApiKeyHeaders(
  config: ProviderConfigOf<'wallet'>,
  apiKey: string,
): Record<string, string> {
  return { [config.apiKeyHeader ?? WALLET_API_KEY_HEADER]: apiKey };
}

export function walletBearerHeaders(accessToken: string): Record<string, string> {
  return { authorization: `Bearer ${accessToken}` };
}

/**
 * POST /v2/auth/login {"email","password"}
 *   -> 200 {"data":{"accessToken":"<jwt>","expiresIn":900}}
 *   -> 401 {"message":"Unauthorized"}
 */
export async function loginToWallet(
  http: UpstreamHttp,
  config: ProviderConfigOf<'wallet'>,
  credentials: { email: string; password: string },
  now: () => number,
): Promise<SessionToken> {
  const providerId = config.id;
  const response = await http.send({
    method: 'POST',
    path: config.paths.login ?? WALLET_LOGIN_PATH,
    json: { email: credentials.email, password: credentials.password },
    route: 'login',
    // A login is never repeated automatically.
    retry: 'never',
  });
  const answer = readAnswer(response);
  settleAnswer(WALLET_LOGIN_ERRORS, answer, { providerId, what: 'the login' });
  return readWithinContract(providerId, 'the login', () => {
    const body = expectRecord(answerBody(answer), 'login body');
    const data = expectRecord(body.data, 'login body.data');
    const grant = readSessionGrant(data, 'accessToken', 'expiresIn', 'login body.data');
    return { value: grant.token, expiresAt: now() + grant.lifetimeMs };
  });
}
