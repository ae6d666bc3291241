import {
  BrokenCircuitError,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import { UpstreamError, type UpstreamErrorCode } from './errors.js';

/** Failures that say the provider is unwell, as opposed to a problem with what we asked. */
const BREAKING_CODES: ReadonlySet<UpstreamErrorCode> = new Set([
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_BAD_RESPONSE',
]);

export interface CircuitBreakerOptions {
  providerId: string;
  /** Failed reads in a row that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before it lets one probe through. */
  cooldownMs: number;
}

/** One (tenant, provider)'s breaker: fail fast while the provider is down, then probe. */
export interface ProviderCircuitBreaker {
  run<T>(read: () => Promise<T>): Promise<T>;
}

export function createProviderCircuitBreaker(
  options: CircuitBreakerOptions,
): ProviderCircuitBreaker {
  const policy: CircuitBreakerPolicy = circuitBreaker(
    handleWhen((error) => error instanceof UpstreamError && BREAKING_CODES.has(error.code)),
    {
      halfOpenAfter: options.cooldownMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    },
  );
  let openedAt = 0;
  policy.onBreak(() => {
    openedAt = performance.now();
  });

  return {
    async run(read) {
      try {
        return await policy.execute(read);
      } catch (error) {
        if (!(error instanceof BrokenCircuitError)) throw error;
        // Fail fast with the code of the failure that opened the circuit, so clients see why.
        const last = policy.lastFailure;
        const cause = last !== undefined && 'error' in last ? last.error : undefined;
        const code = cause instanceof UpstreamError ? cause.code : 'UPSTREAM_UNAVAILABLE';
        const waitSeconds = Math.max(
          1,
          Math.ceil((options.cooldownMs - (performance.now() - openedAt)) / 1000),
        );
        throw new UpstreamError(
          code,
          `${options.providerId}: not called, failing fast after ${options.failureThreshold} failed reads in a row; the next try is in about ${waitSeconds} s${
            cause instanceof UpstreamError
              ? ` (last failure: ${stripProvider(cause.message, options.providerId)})`
              : ''
          }`,
          { providerId: options.providerId, cause: error },
        );
      }
    },
  };
}

function stripProvider(message: string, providerId: string): string {
  return message.startsWith(`${providerId}: `) ? message.slice(providerId.length + 2) : message;
}
