import { DelegateBackoff, handleWhen, retry, TaskCancelledError } from 'cockatiel';
import { atDeadline, deadlineSignal, leftUntil, linkedSignal, type ReadBound } from './deadline.js';
import { UpstreamError } from './errors.js';
import type { UpstreamResponse } from './http.js';
import { readRetryAfterSeconds } from './http-errors.js';

/** When a read is tried again. */
export interface RetryOptions {
  /** Further attempts after the first, 0 to 2; default 2. */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for: the 429 is returned at once. Default 2000. */
  maxRetryAfterMs?: number;
  /** First backoff step before jitter; default 100 ms, doubling per retry. */
  baseDelayMs?: number;
}

/** How one provider's reads are tried again. */
export interface ReadRetries {
  /**
   * Tries once and, when that fails in a way worth another try (a 429, 502, 503, 504, or an
   * unavailable upstream), again after a jittered backoff or the `Retry-After`, never past the
   * bound's deadline. The last answer stands: a transient status is returned as it came.
   * `onRetry` is told of every try after the first.
   */
  run(
    tryOnce: () => Promise<UpstreamResponse>,
    bound: ReadBound,
    onRetry: () => void,
  ): Promise<UpstreamResponse>;
}

/** HTTP statuses worth another try: the upstream or a gateway before it is briefly unwell. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/** A transient status, thrown inside the retry loop and turned back into a response after it. */
class TransientStatus extends Error {
  constructor(readonly response: UpstreamResponse) {
    super(`HTTP ${response.status}`);
  }
}

/** Where a failed attempt records the deadline it ran under, for the retry policy to read. */
const deadlineOfAttempt = new WeakMap<object, number | undefined>();

/** Thrown in the retry loop when the deadline has come before another try. */
const OUT_OF_TIME = new Error('out of time for another try');

function isUnavailable(error: unknown): boolean {
  return error instanceof UpstreamError && error.code === 'UPSTREAM_UNAVAILABLE';
}

/**
 * The retry policy of one provider. `timeoutMs` stands for the time left when a call runs under
 * no read's deadline: a `Retry-After` as long as a whole call is not waited for.
 */
export function createReadRetries(
  options: RetryOptions | undefined,
  timeoutMs: number,
): ReadRetries {
  const maxRetries = Math.max(0, Math.min(2, options?.maxRetries ?? 2));
  const maxRetryAfterMs = options?.maxRetryAfterMs ?? 2000;
  const baseDelayMs = options?.baseDelayMs ?? 100;

  /** Retry-After in ms for a 429 that said when, else undefined. */
  const retryAfterOf = (error: Error): number | undefined => {
    if (!(error instanceof TransientStatus) || error.response.status !== 429) return undefined;
    const seconds = readRetryAfterSeconds(error.response.headers);
    return seconds === undefined ? undefined : seconds * 1000;
  };

  const policy = retry(
    handleWhen((error) => {
      if (!(error instanceof TransientStatus || isUnavailable(error))) return false;
      // Past the cap, or past what is left of the deadline, the answer is returned at once.
      const retryAfter = retryAfterOf(error);
      const left = leftUntil(deadlineOfAttempt.get(error)) ?? timeoutMs;
      return retryAfter === undefined || (retryAfter <= maxRetryAfterMs && retryAfter < left);
    }),
    {
      maxAttempts: maxRetries,
      backoff: new DelegateBackoff((context) => {
        const failure = context.result;
        const retryAfter = 'error' in failure ? retryAfterOf(failure.error) : undefined;
        // Full jitter: a random wait up to 100, 200 ms..., so callers do not retry in step.
        const delay = retryAfter ?? Math.random() * baseDelayMs * 2 ** (context.attempt - 1);
        // Never past the deadline: cockatiel's wait does not watch the abort signal, so a wait
        // that outlasts the deadline ends at it, and the next try sees there is no time left.
        const left =
          'error' in failure ? leftUntil(deadlineOfAttempt.get(failure.error)) : undefined;
        return left === undefined ? delay : Math.min(delay, left);
      }),
    },
  );

  /** The first try: no retry machinery is armed unless it fails in a way worth another. */
  async function firstTry(
    tryOnce: () => Promise<UpstreamResponse>,
  ): Promise<UpstreamResponse | { retryable: unknown }> {
    try {
      const response = await tryOnce();
      return TRANSIENT_STATUSES.has(response.status)
        ? { retryable: new TransientStatus(response) }
        : response;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      return { retryable: error };
    }
  }

  /**
   * The tries after a first that failed transiently, through the retry policy. The policy's own
   * first run replays that failure, so its predicate, backoff and `Retry-After` judge it.
   */
  async function retryAfterFailure(
    tryOnce: () => Promise<UpstreamResponse>,
    bound: ReadBound,
    firstFailure: unknown,
    onRetry: () => void,
  ): Promise<UpstreamResponse> {
    let last: unknown = firstFailure;
    let replay: unknown = firstFailure;
    const left = leftUntil(bound.deadlineAt);
    const wait =
      bound.signal !== undefined
        ? linkedSignal(bound.signal)
        : left === undefined
          ? undefined
          : deadlineSignal(left);
    try {
      return await policy.execute(async () => {
        try {
          if (replay !== undefined) {
            const failed = replay;
            replay = undefined;
            throw failed;
          }
          // Out of time after a wait: no further try; the last answer stands (below).
          if (atDeadline(bound)) throw OUT_OF_TIME;
          onRetry();
          const response = await tryOnce();
          if (TRANSIENT_STATUSES.has(response.status)) throw new TransientStatus(response);
          return response;
        } catch (error) {
          if (error === OUT_OF_TIME) throw error;
          // A try cut off by the deadline tells less than the answer before it, which stands.
          if (
            error instanceof UpstreamError &&
            error.code === 'UPSTREAM_TIMEOUT' &&
            atDeadline(bound)
          )
            throw OUT_OF_TIME;
          last = error;
          if (typeof error === 'object' && error !== null)
            deadlineOfAttempt.set(error, bound.deadlineAt);
          throw error;
        }
      }, wait?.signal);
    } catch (error) {
      // Out of tries, or out of time while waiting to try again: the last answer stands.
      const final = error instanceof TaskCancelledError || error === OUT_OF_TIME ? last : error;
      if (final instanceof TransientStatus) return final.response;
      throw final;
    } finally {
      wait?.clear();
    }
  }

  return {
    async run(tryOnce, bound, onRetry) {
      if (maxRetries === 0) return tryOnce();
      const first = await firstTry(tryOnce);
      return 'retryable' in first
        ? retryAfterFailure(tryOnce, bound, first.retryable, onRetry)
        : first;
    },
  };
}
