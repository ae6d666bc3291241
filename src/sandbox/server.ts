import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProviderKind } from '../providers/kinds.js';
import { createCallLog, type RecordedCall, type SandboxStats } from './call-log.js';
import {
  createSandboxControl,
  isControlPath,
  SANDBOX_CONTROL_PATH,
  type SandboxBalanceEditor,
} from './control.js';
import { alterAnswer, altersAnswer, answerWithFault } from './fault-answers.js';
import {
  createSandboxFaultRegistry,
  type SandboxFault,
  type SandboxFaults,
  type SandboxFaultType,
} from './faults.js';
import {
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  sendSimResponse,
} from './simulator.js';

export type { RecordedCall, SandboxStats } from './call-log.js';
export { type RedactedCall, SANDBOX_CONTROL_PATH } from './control.js';

export interface SandboxServerOptions {
  simulators: Simulator[];
  clock: SandboxClock;
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Faults in place from the start; default none. */
  faults?: SandboxFaults;
  /** A fixed delay before every simulator answer, as a real network and upstream add; default 0. */
  latencyMs?: number;
  /** Keep every call for `calls()`; default true. Off for long benchmarks: `stats()` still counts. */
  recordCalls?: boolean;
  /** Serves `/_sandbox/balances` (changing balances while the sandbox runs); default none (404). */
  balances?: SandboxBalanceEditor;
}

/** The simulators on one HTTP server, each under `/<kind>`, recording every call. */
export interface SandboxServer {
  readonly server: Server;
  /** `http://host:port`, once listening. */
  readonly origin: string;
  /** The control endpoint: `<origin>/_sandbox`. */
  readonly controlUrl: string;
  /** The base URL of one kind: `<origin>/<kind>`. */
  baseUrl(kind: ProviderKind): string;
  /** Every call so far, optionally of one kind. */
  calls(kind?: ProviderKind): RecordedCall[];
  /** Logins and reads per kind since the start or the last `clearCalls()`. */
  stats(): SandboxStats;
  clearCalls(): void;
  /**
   * Makes one kind's simulator misbehave until the fault's `times` run out; undefined removes
   * the fault. Throws SandboxFaultError for an invalid fault or a kind not mounted here.
   */
  setFault(kind: ProviderKind, fault: SandboxFault | undefined): void;
  clearFaults(): void;
  /** The current faults, with the calls left in each one's `times`. */
  faults(): SandboxFaults;
  close(): Promise<void>;
}

/**
 * The server itself: it routes each call to the control endpoint (control.ts) or to its kind's
 * simulator, where a fault may answer instead or alter the answer (fault-answers.ts), and keeps
 * the call (call-log.ts).
 */
export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const byKind = new Map(options.simulators.map((simulator) => [simulator.kind, simulator]));
  const faults = createSandboxFaultRegistry(
    [...byKind.keys()],
    options.simulators
      .filter((simulator) => simulator.loginTokenPath !== undefined)
      .map((simulator) => simulator.kind),
  );
  for (const [kind, fault] of Object.entries(options.faults ?? {})) {
    faults.set(kind as ProviderKind, fault);
  }
  const log = createCallLog({ recordCalls: options.recordCalls ?? true });
  const control = createSandboxControl({
    kinds: [...byKind.keys()],
    faults,
    calls: log,
    balances: options.balances,
  });
  const latencyMs = options.latencyMs ?? 0;

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (isControlPath(url.pathname)) {
      sendSimResponse(res, control(req.method ?? 'GET', url, body));
      return;
    }
    const [, kind = '', ...rest] = url.pathname.split('/');
    const simulator = byKind.get(kind as ProviderKind);
    if (simulator !== undefined) res.once('close', log.begin(simulator.kind));
    const request: SimRequest = {
      method: req.method ?? 'GET',
      path: `/${rest.join('/')}`,
      query: url.searchParams,
      headers: req.headers,
      body,
      remoteAddress: req.socket.remoteAddress ?? '',
    };
    const record = (status: number, fault?: SandboxFaultType | undefined) => {
      if (simulator === undefined) return;
      log.record(simulator.kind, request.path, () => ({
        kind: simulator.kind,
        method: request.method,
        path: request.path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: request.body,
        status,
        at: options.clock.now(),
        ...(fault === undefined ? {} : { fault }),
      }));
    };

    const fault = simulator && faults.take(simulator.kind, request.path);
    if (simulator && fault && !altersAnswer(fault)) {
      answerWithFault(fault, simulator, request, req, res, record);
      return;
    }
    let response: SimResponse;
    try {
      response = simulator
        ? await simulator.handle(request)
        : { status: 404, body: JSON.stringify({ message: `no simulator at /${kind}` }) };
      // A fault that alters the simulator's own answer.
      if (simulator && fault) response = alterAnswer(fault, simulator, response);
    } catch {
      response = { status: 500, body: JSON.stringify({ message: 'simulator failure' }) };
    }
    record(response.status, fault?.type);
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    sendSimResponse(res, response);
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
    controlUrl: `${origin}${SANDBOX_CONTROL_PATH}`,
    baseUrl: (kind) => `${origin}/${kind}`,
    calls: (kind) => log.calls(kind),
    clearCalls: () => log.clear(),
    stats: () => log.stats(),
    setFault: (kind, fault) => faults.set(kind, fault),
    clearFaults: () => faults.clear(),
    faults: () => faults.list(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Also ends hanging calls, whose responses never finish.
        server.closeAllConnections();
      }),
  };
}
