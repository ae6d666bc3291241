import type { Dispatcher } from 'undici';
import type { Logger } from '../../logger.js';
import { deadlineSignal, leftUntil, noop, type ReadBound } from '../../upstream/deadline.js';
import type { UpstreamError } from '../../upstream/errors.js';
import { exchange } from '../../upstream/exchange.js';
import type { UpstreamResponse } from '../../upstream/http.js';
import { timeoutError, tooLargeError, toUpstreamError } from '../../upstream/http-errors.js';

/**
 * One POST with an `application/x-www-form-urlencoded` body (RFC 6749's token requests, and
 * logins configured with `bodyFormat: "form"`), under the read's deadline and the provider's body
 * cap, through the shared dispatcher. The provider transport (`UpstreamHttp`) sends JSON bodies
 * only; a form call is a login, which is never retried, so this needs none of its retry policy.
 * When `UpstreamRequest` takes a form body this file goes and the call joins the others.
 */
export interface FormCallOptions {
  providerId: string;
  baseUrl: string;
  dispatcher: Dispatcher;
  /** The provider's per-call deadline. */
  timeoutMs: number;
  maxResponseBytes: number;
  log?: Logger | undefined;
}

export interface FormCall {
  method: 'POST';
  /** Path and query, appended to the base URL. */
  path: string;
  /** An absolute URL instead of the base URL and `path` (an OAuth2 server of its own). */
  url?: string | undefined;
  headers: Record<string, string>;
  form: Record<string, string>;
  route: string;
}

export type FormSender = (call: FormCall, bound: ReadBound) => Promise<UpstreamResponse>;

export function createFormSender(options: FormCallOptions): FormSender {
  const base = options.baseUrl.replace(/\/+$/, '');
  const { providerId, timeoutMs: callTimeoutMs, maxResponseBytes } = options;
  return async (call, bound) => {
    const started = performance.now();
    let status: number | undefined;
    let failed: UpstreamError | undefined;
    const timeoutMs = Math.ceil(
      Math.min(callTimeoutMs, leftUntil(bound.deadlineAt) ?? callTimeoutMs),
    );
    try {
      if (timeoutMs <= 0) throw timeoutError(providerId, callTimeoutMs);
      // The read's signal fires at its deadline; without one, a timer for this call alone.
      const deadline =
        bound.signal !== undefined && bound.deadlineAt !== undefined
          ? { signal: bound.signal, clear: noop }
          : deadlineSignal(timeoutMs);
      try {
        const response = await exchange(
          options.dispatcher,
          new URL(call.url ?? base + call.path),
          {
            method: call.method,
            headers: {
              accept: 'application/json',
              ...call.headers,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams(call.form).toString(),
            signal: deadline.signal,
            timeoutMs,
            maxBytes: maxResponseBytes,
          },
          (error, at) => toUpstreamError(error, providerId, callTimeoutMs, at),
          () => tooLargeError(providerId, maxResponseBytes),
        );
        status = response.status;
        return response;
      } finally {
        deadline.clear();
      }
    } catch (error) {
      failed = error as UpstreamError;
      throw error;
    } finally {
      if (options.log?.isLevelEnabled('info')) {
        options.log.info(
          {
            providerId,
            route: call.route,
            method: call.method,
            status: status ?? null,
            ...(failed?.code === undefined ? {} : { error: failed.code }),
            retries: 0,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
          },
          'upstream call',
        );
      }
    }
  };
}
