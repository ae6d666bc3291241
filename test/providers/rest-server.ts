import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import type { RestConfig } from '../../src/providers/rest/config.js';
import { createRestAdapter } from '../../src/providers/rest/index.js';
import { createMovableClock, type MovableClock } from '../../src/sandbox/clock.js';
import { TokenCacheByTenantAndProvider } from '../../src/upstream/token-cache.js';
import { type StandaloneAdapter, standalone } from '../helpers/adapter.js';

/**
 * A scripted REST upstream on a loopback port for the rest kind's tests: each route answers what
 * its handler says, and every request is recorded (method, path with query, headers, body).
 */

export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Route = (request: RecordedRequest) => Reply;

export interface RestUpstream {
  baseUrl: string;
  /** Sets the handler of `METHOD /path`. */
  route(key: string, handler: Route): void;
  requests(path?: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startRestUpstream(): Promise<RestUpstream> {
  const routes = new Map<string, Route>();
  const recorded: RecordedRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://upstream.test');
      const entry: RecordedRequest = {
        method: request.method ?? 'GET',
        url: request.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      recorded.push(entry);
      const handler = routes.get(`${entry.method} ${entry.path}`);
      const reply = handler?.(entry) ?? { status: 404, body: { error: 'no route' } };
      response.writeHead(reply.status ?? 200, {
        'content-type': 'application/json',
        ...reply.headers,
      });
      response.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    route(key, handler) {
      routes.set(key, handler);
    },
    requests: (path) =>
      path === undefined ? [...recorded] : recorded.filter((entry) => entry.path === path),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const dispatcher = new Agent();

/** A rest adapter read on its own, built as balance-api builds it from the configuration file. */
export function restAdapter(
  fields: Record<string, unknown>,
  options: { clock?: MovableClock; tokens?: TokenCacheByTenantAndProvider; log?: Logger } = {},
): { adapter: StandaloneAdapter; clock: MovableClock; config: RestConfig } {
  const clock = options.clock ?? createMovableClock();
  const tokens = options.tokens ?? new TokenCacheByTenantAndProvider({ now: clock.now });
  const config = parseConfig(
    { providers: [{ id: 'bank', kind: 'rest', retry: { maxRetries: 0 }, ...fields }] },
    { source: 'test', env: {}, baseDir: process.cwd() },
  ).tenants[0]?.providers[0] as unknown as RestConfig;
  tokens.slot('t', config.id).setMaxTokenBytes(config.maxTokenBytes);
  const adapter = createRestAdapter({
    tenantId: 't',
    config,
    dispatcher,
    tokens: tokens.slot('t', config.id),
    now: clock.now,
    log: options.log,
  });
  return { adapter: standalone(adapter), clock, config };
}

/** A mapping of the answer `{"items":[{"id","ccy","amount"}]}`. */
export const ITEMS_MAPPING = {
  accounts: '/items',
  accountId: '/id',
  currency: '/ccy',
  total: '/amount',
  available: 'total',
};

/** One page of items. */
export function items(...ids: string[]): { items: Record<string, string>[] } {
  return { items: ids.map((id) => ({ id, ccy: 'USD', amount: '1.50' })) };
}
