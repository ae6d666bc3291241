/** The stable error codes of CONTRACT.md. */
export type UpstreamErrorCode =
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_RATE_LIMITED'
  | 'UPSTREAM_AUTH_FAILED'
  | 'UPSTREAM_NOT_FOUND'
  | 'UPSTREAM_BAD_RESPONSE';

const RETRYABLE: Record<UpstreamErrorCode, boolean> = {
  UPSTREAM_TIMEOUT: true,
  UPSTREAM_UNAVAILABLE: true,
  UPSTREAM_RATE_LIMITED: true,
  UPSTREAM_AUTH_FAILED: false,
  UPSTREAM_NOT_FOUND: false,
  UPSTREAM_BAD_RESPONSE: false,
};

export interface UpstreamErrorOptions {
  providerId: string;
  /** The upstream HTTP status, where there was one. */
  status?: number;
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * A provider could not be read. The message is safe to show a client: it names what failed and
 * never carries a secret or the upstream body.
 */
export class UpstreamError extends Error {
  readonly providerId: string;
  readonly status: number | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    options: UpstreamErrorOptions,
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UpstreamError';
    this.providerId = options.providerId;
    this.status = options.status;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get retryable(): boolean {
    return RETRYABLE[this.code];
  }
}

/** The upstream rejected the session's token; the session layer re-logs in once on this. */
export class UpstreamTokenRejectedError extends UpstreamError {
  constructor(message: string, options: UpstreamErrorOptions) {
    super('UPSTREAM_AUTH_FAILED', message, options);
    this.name = 'UpstreamTokenRejectedError';
  }
}

/**
 * The HTTP client refused to send a request (a header value it will not put on the wire): nothing
 * reached the provider. UPSTREAM_BAD_RESPONSE, since trying again would send the same; the
 * session layer drops a session whose token went into such a request.
 */
export class UpstreamRequestNotSentError extends UpstreamError {
  constructor(message: string, options: UpstreamErrorOptions) {
    super('UPSTREAM_BAD_RESPONSE', message, options);
    this.name = 'UpstreamRequestNotSentError';
  }
}

/**
 * A body broke the provider's contract. Thrown by pure normalizers, which do not know the
 * provider id; the adapter turns it into UPSTREAM_BAD_RESPONSE.
 */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractViolation';
  }
}

export function isUpstreamError(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError;
}
