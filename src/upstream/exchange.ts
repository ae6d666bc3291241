import type { Dispatcher } from 'undici';
import type { StopSignal } from './deadline.js';
import { UpstreamError } from './errors.js';
import type { UpstreamResponse } from './http.js';

/** One call as the exchange sends it. */
export interface Exchange {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | undefined;
  /** Aborts the exchange: the call's deadline, or its read's. */
  signal: StopSignal;
  /** undici's own headers and body timeouts, a backstop behind the signal. */
  timeoutMs: number;
  /** Largest body read; past it the exchange fails with `tooLarge()`. */
  maxBytes: number;
}

/**
 * One HTTP exchange through undici's dispatcher: the request, and the whole body as text. The
 * handler collects the body's chunks itself (undici's `request` would wrap it in a stream first),
 * cutting it off past `maxBytes`, whether the length was declared or not. The signal aborts it.
 * `failure` turns what undici or the signal reported into the call's error.
 */
export function exchange(
  dispatcher: Dispatcher,
  url: URL,
  call: Exchange,
  failure: (error: unknown, status: number | undefined) => UpstreamError,
  tooLarge: () => UpstreamError,
): Promise<UpstreamResponse> {
  const { maxBytes } = call;
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
            // Present on every answer, so observed and unobserved ones share one shape.
            judged: undefined,
          });
        },
        onResponseError(_controller, error) {
          fail(error, true);
        },
      },
    );
  });
}
