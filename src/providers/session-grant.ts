import { ContractViolation } from '../upstream/errors.js';
import { readCode, readString } from '../upstream/json.js';

/** What a successful login hands over: the token and how long it lives. */
export interface SessionGrant {
  token: string;
  lifetimeMs: number;
}

/**
 * The token and its life in seconds from a login answer's data object, as pik, merchant and the
 * wallet's JWT login give them (`accessToken`/`expiresIn`, `SessionToken`/`ExpiresIn`).
 */
export function readSessionGrant(
  data: Record<string, unknown>,
  tokenField: string,
  expiresInField: string,
  where: string,
): SessionGrant {
  const token = readString(data, tokenField, where);
  if (token === '') {
    throw new ContractViolation(`${where}.${tokenField}: expected a token, received ""`);
  }
  const seconds = readCode(data[expiresInField]);
  if (seconds === undefined || !(seconds > 0) || !Number.isFinite(seconds)) {
    throw new ContractViolation(
      `${where}.${expiresInField}: expected a positive number of seconds`,
    );
  }
  return { token, lifetimeMs: seconds * 1000 };
}
