import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { DEFAULT_TENANT_ID } from './config.js';
import { createRequestContext, type RequestContext } from './context.js';
import { schema } from './graphql/index.js';
import type { Logger } from './logger.js';
import type { AppRuntime } from './tenants.js';

/** GraphiQL's first tab: the dashboard operation kept in schema/operations/. */
const DASHBOARD_QUERY = readFileSync(
  new URL('../schema/operations/dashboard.graphql', import.meta.url),
  'utf8',
);

export type BalanceYoga = YogaServerInstance<Record<string, unknown>, RequestContext>;

export interface CreateYogaOptions {
  runtime: AppRuntime;
  log?: Logger | undefined;
  /** Serve GraphiQL on GET /graphql; default true. */
  graphiql?: boolean;
}

/** The GraphQL handler; tests may call its `fetch` in-process. */
export function createBalanceYoga(options: CreateYogaOptions): BalanceYoga {
  let graphiqlPage: string | undefined;
  return createYoga<Record<string, unknown>, RequestContext>({
    schema,
    context: () => createRequestContext(options.runtime, DEFAULT_TENANT_ID),
    graphiql:
      options.graphiql === false ? false : { title: 'balance-api', defaultQuery: DASHBOARD_QUERY },
    // GraphiQL's scripts and styles are served inline from the package, never from a CDN. The
    // package is 9 MB of JavaScript, so it is loaded on the first visit, and the page rendered once.
    renderGraphiQL: async (graphiqlOptions) => {
      if (graphiqlPage === undefined) {
        const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
        graphiqlPage = renderGraphiQL(graphiqlOptions);
      }
      return graphiqlPage;
    },
    landingPage: false,
    logging: false,
    maskedErrors: true,
  });
}

export interface BalanceServer {
  server: Server;
  yoga: BalanceYoga;
  /** `http://host:port`, once listening. */
  origin: string;
  close(): Promise<void>;
}

export interface StartServerOptions extends CreateYogaOptions {
  host: string;
  port: number;
}

/** GraphQL at /graphql, GET /healthz while the process runs, GET /readyz once ready. */
export async function startBalanceServer(options: StartServerOptions): Promise<BalanceServer> {
  const yoga = createBalanceYoga(options);
  let ready = false;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/readyz') {
      const ok = path === '/healthz' || ready;
      res.writeHead(ok ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      res.end(JSON.stringify({ status: ok ? 'ok' : 'starting' }));
      return;
    }
    void yoga(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The schema was built at import and the configuration loaded before we got here.
  ready = true;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    yoga,
    origin: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        ready = false;
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
