import { decodeJwt } from 'jose';
import type { ProviderConfigOf } from '../../config/providers.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import { expectRecord, readString } from '../../upstream/json.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { readWithinContract } from '../bad-response.js';
import { answerBody, readAnswer, settleAnswer } from '../error-table.js';
import { ASSET_ACCOUNTS_LOGIN_ERRORS } from './errors.js';
import { generateOtp, parseOtpSecret } from './totp.js';

/** The assumed login path; overridable per provider as `paths.login`. */
export const ASSET_ACCOUNTS_LOGIN_PATH = '/api/v1/public/auth/login';

/** A token counts as expiring this long before its `exp`, for skew between our clock and theirs. */
export const TOKEN_EXPIRY_MARGIN_MS = 30_000;

/** The life given to a token whose `exp` cannot be read: short, never eternal. */
export const TOKEN_FALLBACK_LIFE_MS = 60_000;

/** Returns a fresh TOTP code each time it is called, for the clock's time at that moment. */
export type OtpSource = () => string;

/**
 * The provider's one-time passwords from the configured base32 `otpSecret`. A seed that is not
 * base32 fails each call with UPSTREAM_AUTH_FAILED, without naming any part of it.
 */
export function createOtpSource(
  config: ProviderConfigOf<'asset-accounts'>,
  now: () => number,
): OtpSource {
  const secret = parseOtpSecret(config.credentials.otpSecret);
  let cached: { step: number; code: string } | undefined;
  return () => {
    if (secret === undefined) {
      throw new UpstreamError(
        'UPSTREAM_AUTH_FAILED',
        `${config.id}: credentials.otpSecret is not a base32 TOTP seed`,
        { providerId: config.id },
      );
    }
    // One HMAC per 30-second step: the code is the same for every request within it.
    // One reading of the clock: a second one could fall in the next step.
    const at = now();
    const step = Math.floor(at / 30_000);
    if (cached === undefined || cached.step !== step) {
      cached = { step, code: generateOtp(secret, at) };
    }
    return cached.code;
  };
}

/**
 * POST /api/v1/public/auth/login {"username","password","otp"}
 *   -> 200 {"token":"<jwt>"}, its life in the JWT's `exp` claim
 *   -> 401 {"message":"invalid credentials"} (bad username, password or OTP)
 */
export async function loginToAssetAccounts(
  http: UpstreamHttp,
  config: ProviderConfigOf<'asset-accounts'>,
  otp: OtpSource,
  now: () => number,
): Promise<SessionToken> {
  const providerId = config.id;
  const code = otp();
  const response = await http.send({
    method: 'POST',
    path: config.paths.login ?? ASSET_ACCOUNTS_LOGIN_PATH,
    // The seed wants the otp header on every request; the login carries it too.
    headers: { otp: code },
    json: {
      username: config.credentials.username,
      password: config.credentials.password,
      otp: code,
    },
    route: 'login',
    // A login is never repeated automatically.
    retry: 'never',
  });
  const answer = readAnswer(response);
  settleAnswer(ASSET_ACCOUNTS_LOGIN_ERRORS, answer, { providerId, what: 'the login' });
  const token = readWithinContract(providerId, 'the login', () => {
    const body = expectRecord(answerBody(answer), 'login body');
    const value = readString(body, 'token', 'login body');
    if (value === '') {
      throw new ContractViolation('login body.token: expected a token, received an empty string');
    }
    return value;
  });
  return sessionTokenFromJwt(token, now());
}

/**
 * The token with the life its JWT `exp` gives it, less a margin for clock skew (at most half of
 * what is left, so short-lived tokens stay usable). The JWT is only decoded, not verified: we are
 * the client, the provider checks it. A token without a readable `exp` lives briefly.
 */
export function sessionTokenFromJwt(value: string, now: number): SessionToken {
  const exp = readExpirySeconds(value);
  if (exp === undefined) return { value, expiresAt: now + TOKEN_FALLBACK_LIFE_MS };
  const expiresAt = exp * 1000;
  const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, Math.max(0, (expiresAt - now) / 2));
  return { value, expiresAt: expiresAt - margin };
}

function readExpirySeconds(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp : undefined;
  } catch {
    // Not a JWT at all: the same as a JWT without `exp`.
    return undefined;
  }
}
