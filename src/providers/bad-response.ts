import { ContractViolation, UpstreamError } from '../upstream/errors.js';

/**
 * Reads a body the provider's contract fixes (parse, check, normalize): a ContractViolation on the
 * way becomes UPSTREAM_BAD_RESPONSE naming `what` and the field; anything else passes unchanged.
 */
export function readWithinContract<T>(providerId: string, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    throw new UpstreamError(
      'UPSTREAM_BAD_RESPONSE',
      `${providerId}: ${what} broke the provider's contract: ${error.message}`,
      { providerId },
    );
  }
}
