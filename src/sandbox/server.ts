import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderKind } from '../config.js';
import type { SandboxClock, SimRequest, SimResponse, Simulator } from './simulator.js';

/** One call a simulator answered, as the tests read it back. */
export interface RecordedCall {
  kind: ProviderKind;
  method: string;
  /** Relative to the kind's mount point, without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

export interface SandboxServerOptions {
  simulators: Simulator[];
  clock: SandboxClock;
  host?: string;
  /** Default 0: any free port. */
  port?: number;
}

/** The simulators on one HTTP server, each under `/<kind>`, recording every call. */
export interface SandboxServer {
  readonly server: Server;
  /** `http://host:port`, once listening. */
  readonly origin: string;
  /** The base URL of one kind: `<origin>/<kind>`. */
  baseUrl(kind: ProviderKind): string;
  /** Every call so far, optionally of one kind. */
  calls(kind?: ProviderKind): RecordedCall[];
  clearCalls(): void;
  close(): Promise<void>;
}

export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const byKind = new Map(options.simulators.map((simulator) => [simulator.kind, simulator]));
  let recorded: RecordedCall[] = [];

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const [, kind = '', ...rest] = url.pathname.split('/');
    const simulator = byKind.get(kind as ProviderKind);
    const request: SimRequest = {
      method: req.method ?? 'GET',
      path: `/${rest.join('/')}`,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      remoteAddress: req.socket.remoteAddress ?? '',
    };
    let response: SimResponse;
    try {
      response = simulator
        ? await simulator.handle(request)
        : { status: 404, body: JSON.stringify({ message: `no simulator at /${kind}` }) };
    } catch {
      response = { status: 500, body: JSON.stringify({ message: 'simulator failure' }) };
    }
    if (simulator) {
      recorded.push({
        kind: simulator.kind,
        method: request.method,
        path: request.path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: request.body,
        status: response.status,
        at: options.clock.now(),
      });
    }
    res.writeHead(response.status, {
      ...(response.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...response.headers,
    });
    res.end(response.body);
  });
  // Keep-alive sockets from balance-api must not hold the sandbox open at close.
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    server,
    origin,
    baseUrl: (kind) => `${origin}/${kind}`,
    calls: (kind) =>
      kind === undefined ? [...recorded] : recorded.filter((call) => call.kind === kind),
    clearCalls: () => {
      recorded = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
