import { Secret, TOTP } from 'otpauth';

/** RFC 6238 as the provider uses it: HMAC-SHA-1, 6 digits, 30-second steps. */
const TOTP_PARAMETERS = { algorithm: 'SHA1', digits: 6, period: 30 } as const;

/**
 * The TOTP seed from its base32 text, or undefined when it is not base32. otpauth's own error
 * names the offending character, a piece of the secret, so it never leaves this function.
 */
export function parseOtpSecret(base32: string): Secret | undefined {
  try {
    const secret = Secret.fromBase32(base32);
    return secret.bytes.byteLength > 0 ? secret : undefined;
  } catch {
    return undefined;
  }
}

/** The code for the 30-second step that holds `timestamp` (ms since the epoch). */
export function generateOtp(secret: Secret, timestamp: number): string {
  return TOTP.generate({ secret, timestamp, ...TOTP_PARAMETERS });
}

/** True when `token` is the code of the step of `timestamp` or of one step either side. */
export function isValidOtp(secret: Secret, token: string, timestamp: number): boolean {
  if (!/^\d{6}$/.test(token)) return false;
  return TOTP.validate({ token, secret, timestamp, window: 1, ...TOTP_PARAMETERS }) !== null;
}
