import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  LosslessNumber,
  parse as parseLossless,
  stringify as stringifyLossless,
} from 'lossless-json';
import type { ProviderKind } from '../providers/kinds.js';
import {
  createSandboxFaultRegistry,
  parseSandboxFault,
  SANDBOX_BAD_TOKEN,
  SANDBOX_DUPLICATE_KEY,
  SANDBOX_HUGE_AMOUNT,
  type SandboxFault,
  SandboxFaultError,
  type SandboxFaults,
  type SandboxFaultType,
  sandboxLongToken,
  validateSandboxFault,
} from './faults.js';
import { isLoginCall, SANDBOX_REDACTED_HEADERS } from './kinds.js';
import {
  json,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from './simulator.js';

/** One call a simulator answered, as the tests read it back. */
export interface RecordedCall {
  kind: ProviderKind;
  method: string;
  /** Relative to the kind's mount point, without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The HTTP status sent; 0 when a fault sent none (hang, reset). */
  status: number;
  at: number;
  /** The fault that answered instead of the simulator, if one did. */
  fault?: SandboxFaultType;
}

/** A recorded call as the control endpoint shows it: credentials redacted, no body. */
export type RedactedCall = Omit<RecordedCall, 'body'>;

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
}

/** Calls per kind, counted even when calls are not recorded. */
export type SandboxStats = Partial<
  Record<ProviderKind, { logins: number; reads: number; maxConcurrent: number }>
>;

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

/** Where the control endpoint is mounted: no kind is named like this. */
export const SANDBOX_CONTROL_PATH = '/_sandbox';

const CONTROL_ROUTES = [
  `GET ${SANDBOX_CONTROL_PATH}/faults`,
  `DELETE ${SANDBOX_CONTROL_PATH}/faults`,
  `GET ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `PUT ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `DELETE ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `GET ${SANDBOX_CONTROL_PATH}/calls[?kind=<kind>]`,
  `DELETE ${SANDBOX_CONTROL_PATH}/calls[?kind=<kind>]`,
  `GET ${SANDBOX_CONTROL_PATH}/stats`,
  `DELETE ${SANDBOX_CONTROL_PATH}/stats`,
];

/** A body that looks like a whole JSON answer; `truncated` sends half of it. */
const TRUNCATED_BODY = JSON.stringify({
  code: 200,
  message: 'success',
  data: [
    { id: 'sandbox-1', currency: 'USD', balance: '1500.25', available: '1200.25' },
    { id: 'sandbox-2', currency: 'EUR', balance: '420.40', available: '420.40' },
  ],
});
/** Faults that answer with the simulator's own answer, altered, rather than instead of it. */
const ALTERING_FAULTS: ReadonlySet<SandboxFaultType> = new Set([
  'huge-amount',
  'duplicate-key',
  'bad-token',
  'long-token',
]);

/** What `invalid-json` sends with `content-type: application/json`. */
const INVALID_JSON_BODY = '{"code":200,"data":[{"balance":';

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
  let recorded: RecordedCall[] = [];
  let stats: SandboxStats = {};
  const latencyMs = options.latencyMs ?? 0;
  const recordCalls = options.recordCalls ?? true;
  const active = new Map<ProviderKind, number>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://sandbox');
    if (
      url.pathname === SANDBOX_CONTROL_PATH ||
      url.pathname.startsWith(`${SANDBOX_CONTROL_PATH}/`)
    ) {
      send(res, control(req.method ?? 'GET', url, body));
      return;
    }
    const [, kind = '', ...rest] = url.pathname.split('/');
    const simulator = byKind.get(kind as ProviderKind);
    // How many calls of this kind are being answered at once, the most seen so far.
    if (simulator !== undefined) {
      const now = (active.get(simulator.kind) ?? 0) + 1;
      active.set(simulator.kind, now);
      const counts = stats[simulator.kind] ?? { logins: 0, reads: 0, maxConcurrent: 0 };
      counts.maxConcurrent = Math.max(counts.maxConcurrent, now);
      stats[simulator.kind] = counts;
      res.once('close', () => active.set(simulator.kind, (active.get(simulator.kind) ?? 1) - 1));
    }
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
      const counts = stats[simulator.kind] ?? { logins: 0, reads: 0, maxConcurrent: 0 };
      stats[simulator.kind] = counts;
      if (isLoginCall(simulator.kind, request.path)) counts.logins += 1;
      else counts.reads += 1;
      if (!recordCalls) return;
      recorded.push({
        kind: simulator.kind,
        method: request.method,
        path: request.path,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: request.body,
        status,
        at: options.clock.now(),
        ...(fault === undefined ? {} : { fault }),
      });
    };

    const fault = simulator && faults.take(simulator.kind, request.path);
    if (simulator && fault && !ALTERING_FAULTS.has(fault.type)) {
      applyFault(fault, simulator, request, req, res, record);
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
    send(res, response);
  });
  // Keep-alive sockets from balance-api must not hold the sandbox open at close.
  server.keepAliveTimeout = 5_000;

  /** The answer of the control endpoint; bad input is a 400 that says what was expected. */
  function control(method: string, url: URL, body: string): SimResponse {
    const route = url.pathname.slice(SANDBOX_CONTROL_PATH.length).replace(/\/$/, '');
    const kindOf = (encoded: string): ProviderKind => {
      let kind: string;
      try {
        kind = decodeURIComponent(encoded);
      } catch {
        throw new SandboxFaultError(`"${encoded}" is not a valid URL path segment`);
      }
      if (!byKind.has(kind as ProviderKind)) {
        throw new SandboxFaultError(
          `no simulator of kind "${kind}" on this sandbox; expected one of ${[...byKind.keys()].join(', ')}`,
        );
      }
      return kind as ProviderKind;
    };
    try {
      if (route === '') {
        return allow(method, ['GET'], () =>
          json(200, { kinds: [...byKind.keys()], routes: CONTROL_ROUTES }),
        );
      }
      if (route === '/faults') {
        return allow(method, ['GET', 'DELETE'], () => {
          if (method === 'DELETE') faults.clear();
          return json(200, { faults: faults.list() });
        });
      }
      const one = route.match(/^\/faults\/([^/]+)$/);
      if (one?.[1] !== undefined) {
        const encoded = one[1];
        return allow(method, ['GET', 'PUT', 'DELETE'], () => {
          const kind = kindOf(encoded);
          if (method === 'PUT') faults.set(kind, faultOfBody(body));
          if (method === 'DELETE') faults.set(kind, undefined);
          return json(200, { kind, fault: faults.list()[kind] ?? null });
        });
      }
      if (route === '/calls') {
        return allow(method, ['GET', 'DELETE'], () => {
          const kinds = url.searchParams.getAll('kind').map(kindOf);
          const selected = (call: RecordedCall) => kinds.length === 0 || kinds.includes(call.kind);
          if (method === 'DELETE') {
            const before = recorded.length;
            recorded = recorded.filter((call) => !selected(call));
            return json(200, { removed: before - recorded.length });
          }
          return json(200, { calls: recorded.filter(selected).map(redact) });
        });
      }
      if (route === '/stats') {
        return allow(method, ['GET', 'DELETE'], () => {
          if (method === 'DELETE') stats = {};
          return json(200, { stats });
        });
      }
      return json(404, {
        message: `no sandbox control route ${method} ${url.pathname}; see GET ${SANDBOX_CONTROL_PATH}`,
      });
    } catch (error) {
      if (error instanceof SandboxFaultError) return json(400, { message: error.message });
      return json(500, { message: 'sandbox control failure' });
    }
  }

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
    calls: (kind) =>
      kind === undefined ? [...recorded] : recorded.filter((call) => call.kind === kind),
    clearCalls: () => {
      recorded = [];
      stats = {};
    },
    stats: () => structuredClone(stats),
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

/** Answers a call the way the fault says, instead of the simulator, and records it. */
function applyFault(
  fault: SandboxFault,
  simulator: Simulator,
  request: SimRequest,
  req: IncomingMessage,
  res: ServerResponse,
  record: (status: number, fault: SandboxFaultType) => void,
): void {
  const errorResponse = (status: number): SimResponse =>
    simulator.errorResponse?.(status) ?? json(status, { message: statusMessage(status) });
  switch (fault.type) {
    case 'hang':
      // The request was read; no answer ever comes. close() ends the socket.
      record(0, fault.type);
      return;
    case 'reset':
      record(0, fault.type);
      req.socket.resetAndDestroy();
      return;
    case 'truncated': {
      record(200, fault.type);
      const body = Buffer.from(TRUNCATED_BODY, 'utf8');
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(body.length),
      });
      // Half the promised bytes, then the connection ends.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => req.socket.destroy());
      return;
    }
    case 'invalid-json':
      record(200, fault.type);
      send(res, { status: 200, body: INVALID_JSON_BODY });
      return;
    case 'status': {
      const response = errorResponse(fault.status ?? 503);
      record(response.status, fault.type);
      send(res, response);
      return;
    }
    case 'reset-body': {
      record(200, fault.type);
      const body = Buffer.from(TRUNCATED_BODY, 'utf8');
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(body.length),
      });
      // Half the body, then a reset once the client has read it: a reset that arrives with the
      // bytes before it still unread may be seen as a clean close. In another process the short
      // wait gives it the time; in this one the immediate lets its poll phase run first.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
        setTimeout(() => setImmediate(() => req.socket.resetAndDestroy()), 10);
      });
      return;
    }
    case 'rate-limit': {
      const response = errorResponse(429);
      record(response.status, fault.type);
      send(res, {
        ...response,
        headers: {
          ...response.headers,
          'retry-after': fault.retryAfter ?? String(fault.retryAfterSeconds ?? 1),
        },
      });
      return;
    }
    case 'auth-once': {
      const response =
        simulator.rejectAuth?.(request) ?? json(401, { message: statusMessage(401) });
      record(response.status, fault.type);
      send(res, response);
      return;
    }
  }
}

/**
 * The simulator's answer as a fault alters it; only a success (200 with a body) is altered.
 * Bodies are read and written with lossless-json, so every other number keeps its digits.
 */
function alterAnswer(
  fault: SandboxFault,
  simulator: Simulator,
  response: SimResponse,
): SimResponse {
  const { body } = response;
  if (response.status !== 200 || body === undefined) return response;
  switch (fault.type) {
    case 'huge-amount': {
      const fields = new Set(simulator.amountFields ?? []);
      const huge = new LosslessNumber(SANDBOX_HUGE_AMOUNT);
      const replace = (value: unknown): unknown => {
        if (Array.isArray(value)) return value.map(replace);
        if (typeof value !== 'object' || value === null || value instanceof LosslessNumber) {
          return value;
        }
        return Object.fromEntries(
          Object.entries(value).map(([key, item]) => [
            key,
            fields.has(key) && item !== null ? huge : replace(item),
          ]),
        );
      };
      return { ...response, body: stringifyLossless(replace(parseLossless(body))) ?? body };
    }
    case 'duplicate-key': {
      const text = body.trimStart();
      if (!text.startsWith('{')) return response;
      const key = JSON.stringify(SANDBOX_DUPLICATE_KEY);
      const rest = text.slice(1).trimStart();
      const pair = `${key}:"first",${key}:"second"`;
      return { ...response, body: `{${pair}${rest.startsWith('}') ? '' : ','}${rest}` };
    }
    case 'bad-token':
    case 'long-token': {
      const path = simulator.loginTokenPath;
      if (path === undefined || path.length === 0) return response;
      const token =
        fault.type === 'bad-token' ? SANDBOX_BAD_TOKEN : sandboxLongToken(fault.tokenLength);
      const parsed = parseLossless(body);
      let holder: unknown = parsed;
      for (const key of path.slice(0, -1)) {
        holder = (holder as Record<string, unknown> | null)?.[key];
      }
      if (typeof holder !== 'object' || holder === null) return response;
      (holder as Record<string, unknown>)[path[path.length - 1] as string] = token;
      return { ...response, body: stringifyLossless(parsed) ?? body };
    }
    default:
      return response;
  }
}

function send(res: ServerResponse, response: SimResponse): void {
  res.writeHead(response.status, {
    ...(response.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...response.headers,
  });
  res.end(response.body);
}

/** Runs `answer` for an allowed method; otherwise a 405 that lists the allowed ones. */
function allow(method: string, allowed: string[], answer: () => SimResponse): SimResponse {
  if (allowed.includes(method)) return answer();
  return json(
    405,
    { message: `method ${method} not allowed here; expected ${allowed.join(' or ')}` },
    { allow: allowed.join(', ') },
  );
}

/** A fault from a PUT body: a JSON fault object, or a JSON string in the compact form. */
function faultOfBody(body: string): SandboxFault {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new SandboxFaultError(
      'expected a JSON body: a fault object such as {"type":"status","status":503}, or a compact fault such as "503x2"',
    );
  }
  return typeof value === 'string' ? parseSandboxFault(value) : validateSandboxFault(value);
}

function redact(call: RecordedCall): RedactedCall {
  const { body: _body, headers, ...rest } = call;
  const redacted: IncomingHttpHeaders = { ...headers };
  // Every kind's credential headers, whichever kind the call went to.
  for (const name of SANDBOX_REDACTED_HEADERS) {
    if (redacted[name] !== undefined) redacted[name] = '[redacted]';
  }
  return { ...rest, headers: redacted };
}
