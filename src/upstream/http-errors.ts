import { UpstreamError, UpstreamRequestNotSentError } from './errors.js';
import type { UpstreamResponse } from './http.js';

/**
 * What went wrong with an upstream call, in the contract's terms: the one timeout error, undici
 * and socket failures, and the statuses every kind shares. Messages name no secret and carry no
 * text from an upstream body.
 */

/** How a read ran out of time, when the plain message would not say. */
export interface TimeoutDetail {
  cause?: unknown;
  /** The read never started: it waited for one of this many concurrent reads until its deadline. */
  waitedForOneOf?: number;
}

/** The one UPSTREAM_TIMEOUT: the provider gave no answer within its `timeoutMs`. */
export function timeoutError(
  providerId: string,
  timeoutMs: number,
  detail: TimeoutDetail = {},
): UpstreamError {
  const waited =
    detail.waitedForOneOf === undefined
      ? ''
      : ` (waited for one of its ${detail.waitedForOneOf} concurrent reads)`;
  return new UpstreamError(
    'UPSTREAM_TIMEOUT',
    `${providerId}: no answer within ${timeoutMs} ms${waited}`,
    { providerId, ...(detail.cause === undefined ? {} : { cause: detail.cause }) },
  );
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * undici and socket failures in the contract's terms; the message names no secret. A body that
 * ends early on a clean close after its status arrived is a bad (truncated) response; a reset
 * connection is an unavailable upstream, before the status or after it.
 */
export function toUpstreamError(
  error: unknown,
  providerId: string,
  timeoutMs: number,
  status: number | undefined,
): UpstreamError {
  if (error instanceof UpstreamError) return error;
  const name = (error as { name?: unknown })?.name;
  const code = (error as { code?: unknown })?.code;
  const causeCode = (error as { cause?: { code?: unknown } })?.cause?.code;
  if (
    name === 'TimeoutError' ||
    name === 'AbortError' ||
    TIMEOUT_CODES.has(String(code)) ||
    TIMEOUT_CODES.has(String(causeCode))
  ) {
    return timeoutError(providerId, timeoutMs, { cause: error });
  }
  const reason =
    typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : 'network error';
  // undici would not send it (a header value with a line break, from a token the provider gave):
  // nothing reached the provider, and trying again would send the same.
  if (reason === 'UND_ERR_INVALID_ARG') {
    return new UpstreamRequestNotSentError(
      `${providerId}: the request could not be sent (${reason})`,
      { providerId, cause: error },
    );
  }
  // A reset (RST) after the status is the connection failing, as a reset before it is: the
  // provider or a hop before it went away, and another try may well succeed. A clean close short
  // of the body's end (undici: UND_ERR_SOCKET "other side closed") is a body cut off, below.
  if (status !== undefined && reason === 'ECONNRESET') {
    return new UpstreamError(
      'UPSTREAM_UNAVAILABLE',
      `${providerId}: the connection was reset before the response body ended (${reason})`,
      { providerId, status, cause: error },
    );
  }
  if (status !== undefined) {
    return new UpstreamError(
      'UPSTREAM_BAD_RESPONSE',
      `${providerId}: the response body was cut off before its end (${reason})`,
      { providerId, status, cause: error },
    );
  }
  return new UpstreamError(
    'UPSTREAM_UNAVAILABLE',
    `${providerId}: the provider could not be reached (${reason})`,
    { providerId, cause: error },
  );
}

/** The body went past the provider's `maxResponseBytes`. */
export function tooLargeError(providerId: string, maxBytes: number): UpstreamError {
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: the response body is larger than ${maxBytes} bytes`,
    { providerId },
  );
}

/**
 * The longest `Retry-After` reported, in seconds: one day. A provider that asks for longer (or for
 * more seconds than a number holds) is reported as asking for a day, so clients see a whole number.
 */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

/**
 * `Retry-After` in whole seconds, at most MAX_RETRY_AFTER_SECONDS, from either of its two forms
 * (delay-seconds, or an HTTP date, which starts with a day name); undefined when absent or
 * unreadable.
 */
export function readRetryAfterSeconds(
  headers: UpstreamResponse['headers'],
  now: number = Date.now(),
): number | undefined {
  const raw = headers['retry-after'];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (value === undefined) return undefined;
  // Number() of a long run of digits is Infinity or a float beyond 2^53: both are bounded here.
  if (/^\d+$/.test(value)) return Math.min(MAX_RETRY_AFTER_SECONDS, Number(value));
  // Date.parse reads far more than HTTP dates ("-5" is a year); every HTTP date form starts
  // with a day name.
  const date = /^[A-Za-z]{3}\b/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(0, Math.ceil((date - now) / 1000)));
}

/** A code in the body that decides over the HTTP status, and how messages name it. */
export interface DecidingCode {
  code: number;
  /** E.g. "ResponseCode 503 under HTTP 200". */
  label: string;
}

/**
 * The errors every kind shares, for an answer its own table did not claim: 429 rate limited (with
 * its Retry-After), 5xx unavailable, anything else a bad response. The code is the HTTP status,
 * named "HTTP <status>", unless `decided` gives a body code that decides over it (merchant's
 * `ResponseCode`); errors report the HTTP status either way.
 */
export function errorForStatus(
  providerId: string,
  response: UpstreamResponse,
  what: string,
  decided?: DecidingCode,
): UpstreamError {
  const { status } = response;
  const code = decided?.code ?? status;
  const label = decided?.label ?? `HTTP ${status}`;
  if (code === 429) {
    const retryAfterSeconds = readRetryAfterSeconds(response.headers);
    return new UpstreamError(
      'UPSTREAM_RATE_LIMITED',
      `${providerId}: ${what} was rate limited (${label})${
        retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`
      }`,
      { providerId, status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    );
  }
  // A body code need not be an HTTP status: only 500 to 599 of it is a server error.
  if (decided === undefined ? status >= 500 : code >= 500 && code <= 599) {
    return new UpstreamError(
      'UPSTREAM_UNAVAILABLE',
      `${providerId}: ${what} failed upstream (${label})`,
      { providerId, status },
    );
  }
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: ${what} answered ${label}, which the provider's contract does not define`,
    { providerId, status },
  );
}
