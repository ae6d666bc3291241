import { Agent, type Dispatcher, request } from 'undici';
import type { Logger } from '../logger.js';
import { UpstreamError } from './errors.js';

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
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** A short name for logs, e.g. "login" or "balance-list"; never contains a secret. */
  route: string;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface UpstreamHttpOptions {
  providerId: string;
  baseUrl: string;
  dispatcher: Dispatcher;
  /** Deadline for the whole call: connecting, headers and body. */
  timeoutMs: number;
  maxResponseBytes?: number;
  log?: Logger | undefined;
}

/** Sends requests to one provider's base URL under its deadline and size cap. */
export interface UpstreamHttp {
  send(upstreamRequest: UpstreamRequest): Promise<UpstreamResponse>;
}

export function createUpstreamHttp(options: UpstreamHttpOptions): UpstreamHttp {
  const base = options.baseUrl.replace(/\/+$/, '');
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const { providerId, timeoutMs } = options;

  return {
    async send(upstreamRequest) {
      const url = new URL(base + upstreamRequest.path);
      for (const [key, value] of Object.entries(upstreamRequest.query ?? {})) {
        url.searchParams.set(key, value);
      }
      const headers: Record<string, string> = {
        accept: 'application/json',
        ...upstreamRequest.headers,
      };
      let body: string | undefined;
      if (upstreamRequest.json !== undefined) {
        body = JSON.stringify(upstreamRequest.json);
        headers['content-type'] = 'application/json';
      }
      const started = performance.now();
      const signal = AbortSignal.timeout(timeoutMs);
      let status: number | undefined;
      try {
        const response = await request(url, {
          method: upstreamRequest.method,
          headers,
          body,
          signal,
          dispatcher: options.dispatcher,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        status = response.statusCode;
        const text = await readCapped(response.body, maxBytes, providerId);
        return { status, headers: response.headers, text };
      } catch (error) {
        throw toUpstreamError(error, providerId, timeoutMs);
      } finally {
        options.log?.debug(
          {
            providerId,
            route: upstreamRequest.route,
            method: upstreamRequest.method,
            status,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
          },
          'upstream call',
        );
      }
    },
  };
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  providerId: string,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new UpstreamError(
        'UPSTREAM_BAD_RESPONSE',
        `${providerId}: the response body is larger than ${maxBytes} bytes`,
        { providerId },
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

/** undici and socket failures in the contract's terms; the message names no secret. */
function toUpstreamError(error: unknown, providerId: string, timeoutMs: number): UpstreamError {
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
    return new UpstreamError(
      'UPSTREAM_TIMEOUT',
      `${providerId}: no answer within ${timeoutMs} ms`,
      { providerId, cause: error },
    );
  }
  const reason =
    typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : 'network error';
  return new UpstreamError(
    'UPSTREAM_UNAVAILABLE',
    `${providerId}: the provider could not be reached (${reason})`,
    { providerId, cause: error },
  );
}

/** `Retry-After` in whole seconds, from either of its two forms; undefined when absent or unreadable. */
export function readRetryAfterSeconds(
  headers: UpstreamResponse['headers'],
  now: number = Date.now(),
): number | undefined {
  const raw = headers['retry-after'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
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
