import { DelegateBackoff, handleWhen, retry, TaskCancelledError } from 'cockatiel';
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import { UpstreamError, UpstreamRequestNotSentError } from './errors.js';

/** Largest upstream body read before the call fails with UPSTREAM_BAD_RESPONSE. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/**
 * The one keep-alive dispatcher every upstream call shares. Its own timeouts are only a backstop:
 * each call sets its provider's deadline, so undici's 300-second defaults never apply.
 */
export function createUpstreamDispatcher(): Dispatcher {
  return new Agent({
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
    connect: { timeout: 10_000 },
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Appended to the provider's base URL. */
  path: string;
  query?: Record<string, string>;
  /** Computed per attempt, so one-time codes are fresh on a retry. */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** Sent as application/json. */
  json?: unknown;
  /** A short name for logs, e.g. "login" or "balance-list"; never contains a secret. */
  route: string;
  /**
   * "read": retried on transient failures (even a POST, such as the wallet's balance read).
   * "never": logins and anything else that must not be repeated automatically. Default "read".
   */
  retry?: 'read' | 'never';
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** When a read is tried again. */
export interface RetryOptions {
  /** Further attempts after the first, 0 to 2; default 2. */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for: the 429 is returned at once. Default 2000. */
  maxRetryAfterMs?: number;
  /** First backoff step before jitter; default 100 ms, doubling per retry. */
  baseDelayMs?: number;
}

export interface UpstreamHttpOptions {
  providerId: string;
  baseUrl: string;
  dispatcher: Dispatcher;
  /** Deadline of one call, connecting, headers and body, when no provider read sets a sooner one. */
  timeoutMs: number;
  maxResponseBytes?: number;
  retry?: RetryOptions;
  log?: Logger | undefined;
}

/** Sends requests to one provider's base URL under its deadline, size cap and retry policy. */
export interface UpstreamHttp {
  send(upstreamRequest: UpstreamRequest): Promise<UpstreamResponse>;
  /**
   * The same transport, bounded by a deadline (a `performance.now()` time) as well as by each
   * call's `timeoutMs`: what one provider read uses, so that its login, calls and retries all end
   * by the read's deadline. A read that owns an abort signal firing at that deadline passes it
   * too: its calls then share that one signal instead of arming a timer each.
   */
  within(bound: ReadBound): UpstreamHttp;
}

/** What bounds the calls of one provider read. */
export interface ReadBound {
  deadlineAt?: number | undefined;
  /** Aborts at `deadlineAt` (with a TimeoutError), or sooner when the read is given up. */
  signal?: StopSignal | undefined;
}

/** What an upstream call listens to for being given up: an AbortSignal, or a ReadStop. */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The stop of one provider read: what its calls need of an AbortSignal, without an EventTarget
 * behind it. A read makes one, every read of every request; Node's AbortController costs several
 * times as much.
 */
export class ReadStop implements StopSignal {
  aborted = false;
  reason: unknown;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners.indexOf(listener);
    if (index >= 0) this.listeners.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/** Milliseconds left before `deadlineAt`, never below zero; undefined without a deadline. */
function leftUntil(deadlineAt: number | undefined): number | undefined {
  return deadlineAt === undefined ? undefined : Math.max(0, deadlineAt - performance.now());
}

/** Where a failed attempt records the deadline it ran under, for the retry policy to read. */
const deadlineOfAttempt = new WeakMap<object, number | undefined>();

/** Thrown in the retry loop when the deadline has come before another try. */
const OUT_OF_TIME = new Error('out of time for another try');

/**
 * True when a read's deadline has come, to the millisecond: timers round to whole milliseconds,
 * so a wait capped at the time left may end a fraction early.
 */
function atDeadline(bound: ReadBound): boolean {
  return bound.deadlineAt !== undefined && (leftUntil(bound.deadlineAt) ?? 0) < 1;
}

/** HTTP statuses worth another try: the upstream or a gateway before it is briefly unwell. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

/** A transient status, thrown inside the retry loop and turned back into a response after it. */
class TransientStatus extends Error {
  constructor(readonly response: UpstreamResponse) {
    super(`HTTP ${response.status}`);
  }
}

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { providerId } = options;
  const maxRetries = Math.max(0, Math.min(2, options.retry?.maxRetries ?? 2));
  const maxRetryAfterMs = options.retry?.maxRetryAfterMs ?? 2000;
  const baseDelayMs = options.retry?.baseDelayMs ?? 100;

  /** Retry-After in ms for a 429 that said when, else undefined. */
  const retryAfterOf = (error: Error): number | undefined => {
    if (!(error instanceof TransientStatus) || error.response.status !== 429) return undefined;
    const seconds = readRetryAfterSeconds(error.response.headers);
    return seconds === undefined ? undefined : seconds * 1000;
  };

  const readPolicy = retry(
    handleWhen((error) => {
      const transient =
        error instanceof TransientStatus ||
        (error instanceof UpstreamError && error.code === 'UPSTREAM_UNAVAILABLE');
      if (!transient) return false;
      // Past the cap, or past what is left of the deadline, the answer is returned at once.
      const retryAfter = retryAfterOf(error);
      const left = leftUntil(deadlineOfAttempt.get(error)) ?? options.timeoutMs;
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

  async function attempt(
    upstreamRequest: UpstreamRequest,
    url: URL,
    body: string | undefined,
    bound: ReadBound,
  ) {
    const { deadlineAt } = bound;
    const timeoutMs = Math.ceil(
      Math.min(options.timeoutMs, leftUntil(deadlineAt) ?? options.timeoutMs),
    );
    if (timeoutMs <= 0) throw timeoutError(providerId, options.timeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(typeof upstreamRequest.headers === 'function'
        ? upstreamRequest.headers()
        : upstreamRequest.headers),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    // The read's signal fires at its deadline, which is never later than this call's own
    // (`within` only narrows). Without one, one timer for the whole call, cleared when it ends
    // (AbortSignal.timeout would fire later for every call, long after it mattered).
    const deadline: { signal: StopSignal; clear(): void } =
      bound.signal !== undefined && deadlineAt !== undefined
        ? { signal: bound.signal, clear: noop }
        : deadlineSignal(timeoutMs);
    try {
      return await exchange(
        options.dispatcher,
        url,
        { method: upstreamRequest.method, headers, body, signal: deadline.signal, timeoutMs },
        (error, status) => toUpstreamError(error, providerId, options.timeoutMs, status),
        () =>
          new UpstreamError(
            'UPSTREAM_BAD_RESPONSE',
            `${providerId}: the response body is larger than ${maxBytes} bytes`,
            { providerId },
          ),
        maxBytes,
      );
    } finally {
      deadline.clear();
    }
  }

  /** The first try: no retry machinery is armed unless it fails in a way worth another. */
  async function firstAttempt(
    upstreamRequest: UpstreamRequest,
    url: URL,
    body: string | undefined,
    bound: ReadBound,
  ): Promise<UpstreamResponse | { retryable: unknown }> {
    try {
      const response = await attempt(upstreamRequest, url, body, bound);
      return TRANSIENT_STATUSES.has(response.status)
        ? { retryable: new TransientStatus(response) }
        : response;
    } catch (error) {
      if (!(error instanceof UpstreamError && error.code === 'UPSTREAM_UNAVAILABLE')) throw error;
      return { retryable: error };
    }
  }

  /**
   * The tries after a first that failed transiently, through the retry policy. The policy's own
   * first run replays that failure, so its predicate, backoff and `Retry-After` judge it.
   */
  async function retryAfterFailure(
    upstreamRequest: UpstreamRequest,
    url: URL,
    body: string | undefined,
    bound: ReadBound,
    firstFailure: unknown,
    countAttempt: () => void,
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
      return await readPolicy.execute(async () => {
        try {
          if (replay !== undefined) {
            const failed = replay;
            replay = undefined;
            throw failed;
          }
          // Out of time after a wait: no further try; the last answer stands (below).
          if (atDeadline(bound)) throw OUT_OF_TIME;
          countAttempt();
          const response = await attempt(upstreamRequest, url, body, bound);
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

  async function send(upstreamRequest: UpstreamRequest, bound: ReadBound) {
    const url = new URL(base + upstreamRequest.path);
    for (const [key, value] of Object.entries(upstreamRequest.query ?? {})) {
      url.searchParams.set(key, value);
    }
    const body =
      upstreamRequest.json === undefined ? undefined : JSON.stringify(upstreamRequest.json);
    const started = performance.now();
    let attempts = 1;
    let status: number | undefined;
    let failure: UpstreamError | undefined;
    try {
      if (upstreamRequest.retry === 'never' || maxRetries === 0) {
        const response = await attempt(upstreamRequest, url, body, bound);
        status = response.status;
        return response;
      }
      const first = await firstAttempt(upstreamRequest, url, body, bound);
      const response =
        'retryable' in first
          ? await retryAfterFailure(upstreamRequest, url, body, bound, first.retryable, () => {
              attempts += 1;
            })
          : first;
      status = response.status;
      return response;
    } catch (error) {
      if (error instanceof UpstreamError) failure = error;
      throw error;
    } finally {
      if (options.log?.isLevelEnabled('info')) {
        options.log.info(
          {
            providerId,
            route: upstreamRequest.route,
            method: upstreamRequest.method,
            status: status ?? null,
            ...(failure === undefined ? {} : { error: failure.code }),
            retries: attempts - 1,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
          },
          'upstream call',
        );
      }
    }
  }

  const bounded = (outer: ReadBound): UpstreamHttp => ({
    send: (upstreamRequest) => send(upstreamRequest, outer),
    within: (next) => bounded(narrower(outer, next)),
  });
  return bounded({});
}

/**
 * The sooner of two bounds. A signal is kept only with the deadline it fires at: a signal of a
 * later deadline would fire too late for the sooner one.
 */
function narrower(a: ReadBound, b: ReadBound): ReadBound {
  if (a.deadlineAt === undefined) return b;
  if (b.deadlineAt === undefined) return a;
  return b.deadlineAt <= a.deadlineAt ? b : a;
}

function noop(): void {}

/** An AbortSignal that fires with `stop` (cockatiel's retry waits on one), and its unlinking. */
function linkedSignal(stop: StopSignal): { signal: AbortSignal; clear(): void } {
  if (stop instanceof AbortSignal) return { signal: stop, clear: noop };
  const controller = new AbortController();
  const forward = () => controller.abort(stop.reason);
  if (stop.aborted) forward();
  else stop.addEventListener('abort', forward);
  return { signal: controller.signal, clear: () => stop.removeEventListener('abort', forward) };
}

/** An abort signal that fires after `ms`, and a way to cancel its timer. */
function deadlineSignal(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation timed out.', 'TimeoutError')),
    Math.max(1, Math.ceil(ms)),
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * One HTTP exchange through undici's dispatcher: the request, and the whole body as text. The
 * handler collects the body's chunks itself (undici's `request` would wrap it in a stream first),
 * cutting it off past `maxBytes`, whether the length was declared or not. The signal aborts it.
 */
function exchange(
  dispatcher: Dispatcher,
  url: URL,
  call: {
    method: 'GET' | 'POST';
    headers: Record<string, string>;
    body: string | undefined;
    signal: StopSignal;
    timeoutMs: number;
  },
  failure: (error: unknown, status: number | undefined) => UpstreamError,
  tooLarge: () => UpstreamError,
  maxBytes: number,
): Promise<UpstreamResponse> {
  return new Promise((resolve, reject) => {
    const { signal } = call;
    if (signal.aborted) {
      reject(failure(signal.reason, undefined));
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let status: number | undefined;
    let headers: UpstreamResponse['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => fail(signal.reason);
    const settle = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
    };
    /** Ends the exchange with an error; undici's own errors need no abort back. */
    const fail = (error: unknown, fromUndici = false) => {
      if (settled) return;
      settle();
      if (!fromUndici) controller?.abort(error instanceof Error ? error : new Error(String(error)));
      reject(error instanceof UpstreamError ? error : failure(error, status));
    };
    signal.addEventListener('abort', onAbort);
    dispatcher.dispatch(
      {
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: call.method,
        headers: call.headers,
        body: call.body ?? null,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      },
      {
        onRequestStart(started) {
          controller = started;
          // Given up before undici handed over the controller: end the request now.
          if (settled) started.abort(new Error('the call was given up'));
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          // An interim answer (103 Early Hints, say) is not the answer; undici reports those too.
          if (statusCode < 200) return;
          status = statusCode;
          headers = responseHeaders;
          const declared = Number(responseHeaders['content-length']);
          if (Number.isInteger(declared) && declared > maxBytes) fail(tooLarge());
        },
        onResponseData(_controller, chunk) {
          if (settled) return;
          size += chunk.length;
          if (size > maxBytes) fail(tooLarge());
          else chunks.push(chunk);
        },
        onResponseEnd() {
          if (settled) return;
          settle();
          resolve({
            status: status as number,
            headers,
            text: Buffer.concat(chunks, size).toString('utf8'),
          });
        },
        onResponseError(_controller, error) {
          fail(error, true);
        },
      },
    );
  });
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

function timeoutError(providerId: string, timeoutMs: number, cause?: unknown): UpstreamError {
  return new UpstreamError('UPSTREAM_TIMEOUT', `${providerId}: no answer within ${timeoutMs} ms`, {
    providerId,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * undici and socket failures in the contract's terms; the message names no secret. A body that
 * ends early on a clean close after its status arrived is a bad (truncated) response; a reset
 * connection is an unavailable upstream, before the status or after it.
 */
function toUpstreamError(
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
    return timeoutError(providerId, timeoutMs, error);
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

/**
 * The errors every kind shares, for a non-2xx status its own table did not claim: 429, 5xx, and
 * anything else as a bad response.
 */
export function errorForStatus(
  providerId: string,
  response: UpstreamResponse,
  what: string,
): UpstreamError {
  const { status } = response;
  if (status === 429) {
    const retryAfterSeconds = readRetryAfterSeconds(response.headers);
    return new UpstreamError(
      'UPSTREAM_RATE_LIMITED',
      `${providerId}: ${what} was rate limited (HTTP 429)${
        retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`
      }`,
      { providerId, status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    );
  }
  if (status >= 500) {
    return new UpstreamError(
      'UPSTREAM_UNAVAILABLE',
      `${providerId}: ${what} failed upstream (HTTP ${status})`,
      { providerId, status },
    );
  }
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: ${what} answered HTTP ${status}, which the provider's contract does not define`,
    { providerId, status },
  );
}
