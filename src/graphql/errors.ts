import { GraphQLError } from 'graphql';
import { isUpstreamError } from '../upstream/errors.js';

/**
 * An upstream failure as the client sees it: the message, code, providerId and retryable of
 * CONTRACT.md. Anything that is not an UpstreamError is left for Yoga to mask.
 */
export function toClientError(error: unknown): unknown {
  if (!isUpstreamError(error)) return error;
  return new GraphQLError(error.message, {
    extensions: {
      code: error.code,
      providerId: error.providerId,
      retryable: error.retryable,
      ...(error.retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds: error.retryAfterSeconds }),
    },
  });
}

/** Awaits `promise`, turning an upstream failure into the client's error. */
export async function orClientError<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw toClientError(error);
  }
}
