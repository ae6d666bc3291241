import { type IncomingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http';
import { LosslessNumber, stringify } from 'lossless-json';
import type { ProviderKind } from '../providers/kinds.js';

/** A request as a simulator sees it: the path is relative to the kind's mount point. */
export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Lower-case names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  body: string;
  /** The caller's address, for simulators that bind a session to it. */
  remoteAddress: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  /** JSON text; use `jsonText` so amounts keep every digit. */
  body?: string;
}

/** One provider kind's simulator, mounted by the sandbox server under `/<kind>`. */
export interface Simulator {
  readonly kind: ProviderKind;
  handle(request: SimRequest): SimResponse | Promise<SimResponse>;
  /**
   * The kind's own answer to a rejected token (or, for a login, rejected credentials), for the
   * sandbox's `auth-once` fault; without it, 401 `{"message":"Unauthorized"}`.
   */
  rejectAuth?(request: SimRequest): SimResponse;
  /**
   * The kind's own error answer with this HTTP status, for the sandbox's `status` and
   * `rate-limit` faults; without it, `{"message":"<reason phrase>"}`.
   */
  errorResponse?(status: number): SimResponse;
  /**
   * Where the kind's successful login answer holds its session token, e.g. `["data",
   * "accessToken"]`, for the sandbox's token faults; absent for a kind without a login.
   */
  readonly loginTokenPath?: readonly string[];
  /**
   * The names of the fields that hold amounts in the kind's balance answers, at any depth, for
   * the sandbox's `huge-amount` fault.
   */
  readonly amountFields?: readonly string[];
}

/** The sandbox's clock, shared by every simulator so tests can move time for all of them. */
export interface SandboxClock {
  now(): number;
}

/**
 * A provider kind's sandbox part, beside its definition in the kind's folder (`sandbox.ts`) and
 * listed in `src/sandbox/kinds.ts`: what only the sandbox loads.
 */
export interface ProviderKindSandbox<Data = unknown, Sim extends Simulator = Simulator> {
  /** The kind's simulator over `data`, on the sandbox's clock. */
  createSimulator(data: Data, clock: SandboxClock): Sim;
  /** The data `npm start` shows; a new copy on each call, so tests may change it. */
  demoData(): Data;
  /**
   * The demo tenant's providers of this kind (configuration entries) for the simulator at
   * `baseUrl`, logging in with credentials the demo data holds.
   */
  demoProviders(baseUrl: string): Record<string, unknown>[];
  /** Request headers that carry the kind's credentials: the control endpoint redacts them. */
  readonly redactHeaders: readonly string[];
  /** Whether a call to `path` (relative to the kind's mount) is a login. */
  isLogin(path: string): boolean;
}

/**
 * Serializes a body the way a provider would: values created with `jsonNumber` are written as
 * JSON numbers with their exact digits, however many a float would lose.
 */
export function jsonText(value: unknown): string {
  return stringify(value) ?? 'null';
}

/** An amount written as a JSON number with exactly these digits. */
export function jsonNumber(text: string | number): LosslessNumber {
  return new LosslessNumber(String(text));
}

export function json(
  status: number,
  value: unknown,
  headers?: Record<string, string>,
): SimResponse {
  return { status, body: jsonText(value), ...(headers ? { headers } : {}) };
}

/** Writes a simulator's answer (a body is JSON) and ends the response. */
export function sendSimResponse(res: ServerResponse, response: SimResponse): void {
  res.writeHead(response.status, {
    ...(response.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...response.headers,
  });
  res.end(response.body);
}

/** The standard reason phrase of an HTTP status, e.g. "Service Unavailable". */
export function statusMessage(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** The bearer token of a request, or undefined. */
export function bearerToken(request: SimRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? header.match(/^Bearer (\S+)$/) : null;
  return match?.[1];
}

/** Parses a JSON request body; undefined when it is not a JSON object. */
export function jsonObjectBody(request: SimRequest): Record<string, unknown> | undefined {
  const type = request.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/json')) return undefined;
  try {
    const value: unknown = JSON.parse(request.body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A random opaque token with a readable prefix. */
export function randomToken(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().replaceAll('-', '')}`;
}
