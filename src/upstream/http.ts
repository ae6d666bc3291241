import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import {
  deadlineSignal,
  leftUntil,
  narrower,
  noop,
  type ReadBound,
  type StopSignal,
} from './deadline.js';
import { UpstreamError } from './errors.js';
import { exchange } from './exchange.js';
import { timeoutError, tooLargeError, toUpstreamError } from './http-errors.js';
import type { CallWatch, ProviderObserver, UpstreamCallInfo } from './observer.js';
import { createReadRetries, type RetryOptions } from './retry-policy.js';

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
  /** Sent as application/x-www-form-urlencoded (RFC 6749 token requests); not with `json`. */
  form?: Readonly<Record<string, string>>;
  /**
   * An absolute URL instead of the base URL and `path` (an OAuth2 token endpoint on a host of
   * its own); `query` still applies. Default: the base URL and `path`.
   */
  url?: string;
  /**
   * The path before its values were put in (`/api/v1/balance/{currencyCode}`), for traces'
   * `url.template`; default the path itself. Its query, if any, is never recorded.
   */
  template?: string;
  /**
   * The call's short name for logs and metrics: the kind's `paths` key (`login`, `balances`,
   * `balanceByCurrency`...); never contains a secret.
   */
  route: string;
  /**
   * "read": retried on transient failures (even a POST, such as the wallet's balance read).
   * "never": logins and anything else that must not be repeated automatically. Default "read".
   */
  retry?: 'read' | 'never';
}

/** The tries of one call, as an observer sees them (made only where one watches). */
class Tries implements UpstreamCallInfo {
  attempt = 0;
  /** The last try's watch: superseded when another try follows it. */
  previous: CallWatch | undefined;
  private path: string | undefined;

  constructor(
    private readonly request: UpstreamRequest,
    readonly url: URL,
    /** The base URL's path, without its trailing slash. */
    private readonly basePath: string,
  ) {}

  get route(): string {
    return this.request.route;
  }

  get method(): string {
    return this.request.method;
  }

  /** Under the base URL's path, without a query; worked out only if a trace asks for it. */
  get template(): string {
    if (this.path === undefined) {
      const { request } = this;
      const template =
        request.template ?? (request.url === undefined ? request.path : this.url.pathname);
      const bare = template.split('?', 1)[0] ?? '';
      this.path = request.url === undefined ? this.basePath + bare : bare;
    }
    return this.path;
  }
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /**
   * The call waiting for the kind's error table to judge this answer, where an observer watches
   * it (metrics, traces); undefined otherwise. Set by the transport only (see observer.ts).
   */
  judged?: unknown;
}

export interface UpstreamHttpOptions {
  providerId: string;
  baseUrl: string;
  dispatcher: Dispatcher;
  /** Deadline of one call, connecting, headers and body, when no provider read sets a sooner one. */
  timeoutMs: number;
  /** Largest body read; default DEFAULT_MAX_RESPONSE_BYTES (8 MiB). */
  maxResponseBytes?: number;
  /** When reads are tried again; default two retries, 100 ms backoff, Retry-After up to 2 s. */
  retry?: RetryOptions;
  log?: Logger | undefined;
  /** Told of every attempt (metrics, traces); default none. */
  observer?: ProviderObserver | undefined;
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

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { providerId, timeoutMs: callTimeoutMs, observer } = options;
  const basePath = new URL(base).pathname.replace(/\/+$/, '');
  const retries = createReadRetries(options.retry, callTimeoutMs);
  const failure = (error: unknown, status: number | undefined): UpstreamError =>
    toUpstreamError(error, providerId, callTimeoutMs, status);
  const tooLarge = () => tooLargeError(providerId, maxBytes);

  /** One try: headers built afresh, under the sooner of the call's timeout and the read's deadline. */
  async function attempt(
    upstreamRequest: UpstreamRequest,
    url: URL,
    body: string | undefined,
    bound: ReadBound,
    tries: Tries | undefined,
  ): Promise<UpstreamResponse> {
    const { deadlineAt } = bound;
    const timeoutMs = Math.ceil(Math.min(callTimeoutMs, leftUntil(deadlineAt) ?? callTimeoutMs));
    if (timeoutMs <= 0) throw timeoutError(providerId, callTimeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(typeof upstreamRequest.headers === 'function'
        ? upstreamRequest.headers()
        : upstreamRequest.headers),
      ...(body === undefined
        ? {}
        : {
            'content-type':
              upstreamRequest.form === undefined
                ? 'application/json'
                : 'application/x-www-form-urlencoded',
          }),
    };
    // The read's signal fires at its deadline, which is never later than this call's own
    // (`within` only narrows). Without one, one timer for the whole call, cleared when it ends
    // (AbortSignal.timeout would fire later for every call, long after it mattered).
    const deadline: { signal: StopSignal; clear(): void } =
      bound.signal !== undefined && deadlineAt !== undefined
        ? { signal: bound.signal, clear: noop }
        : deadlineSignal(timeoutMs);
    let watch: CallWatch | undefined;
    if (tries !== undefined && observer !== undefined) {
      // The answer before this one is retried, so no table will read it.
      tries.previous?.superseded();
      tries.attempt += 1;
      watch = observer.call(tries, headers, bound.scope);
      tries.previous = watch;
    }
    try {
      const response = await exchange(
        options.dispatcher,
        url,
        {
          method: upstreamRequest.method,
          headers,
          body,
          signal: deadline.signal,
          timeoutMs,
          maxBytes,
        },
        failure,
        tooLarge,
      );
      watch?.answered(response);
      return response;
    } catch (error) {
      watch?.failed(error);
      throw error;
    } finally {
      deadline.clear();
    }
  }

  async function send(upstreamRequest: UpstreamRequest, bound: ReadBound) {
    const url = new URL(upstreamRequest.url ?? base + upstreamRequest.path);
    for (const [key, value] of Object.entries(upstreamRequest.query ?? {})) {
      url.searchParams.set(key, value);
    }
    const body =
      upstreamRequest.form !== undefined
        ? new URLSearchParams(upstreamRequest.form).toString()
        : upstreamRequest.json === undefined
          ? undefined
          : JSON.stringify(upstreamRequest.json);
    const tries = observer === undefined ? undefined : new Tries(upstreamRequest, url, basePath);
    const tryOnce = () => attempt(upstreamRequest, url, body, bound, tries);
    const started = performance.now();
    let attempts = 1;
    let status: number | undefined;
    let failed: UpstreamError | undefined;
    try {
      const response =
        upstreamRequest.retry === 'never'
          ? await tryOnce()
          : await retries.run(tryOnce, bound, () => {
              attempts += 1;
            });
      status = response.status;
      return response;
    } catch (error) {
      if (error instanceof UpstreamError) failed = error;
      throw error;
    } finally {
      if (options.log?.isLevelEnabled('info')) {
        options.log.info(
          {
            providerId,
            route: upstreamRequest.route,
            method: upstreamRequest.method,
            status: status ?? null,
            ...(failed === undefined ? {} : { error: failed.code }),
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
