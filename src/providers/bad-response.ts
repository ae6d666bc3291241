import { ContractViolation, UpstreamError } from '../upstream/errors.js';

/**
 * A ContractViolation from a normalizer becomes UPSTREAM_BAD_RESPONSE naming what was wrong;
 * anything else passes through unchanged.
 */
export function badResponse(providerId: string, what: string, error: unknown): unknown {
  if (!(error instanceof ContractViolation)) return error;
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: ${what} broke the provider's contract: ${error.message}`,
    { providerId },
  );
}
