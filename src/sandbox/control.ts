import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderKind } from '../providers/kinds.js';
import type { CallLog, RecordedCall } from './call-log.js';
import {
  parseSandboxFault,
  type SandboxFault,
  SandboxFaultError,
  type SandboxFaultRegistry,
  validateSandboxFault,
} from './faults.js';
import { SANDBOX_REDACTED_HEADERS } from './kinds.js';
import { json, type SimResponse } from './simulator.js';

/** A recorded call as the control endpoint shows it: credentials redacted, no body. */
export type RedactedCall = Omit<RecordedCall, 'body'>;

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

/** Whether a request path is the control endpoint's. */
export function isControlPath(pathname: string): boolean {
  return pathname === SANDBOX_CONTROL_PATH || pathname.startsWith(`${SANDBOX_CONTROL_PATH}/`);
}

/** What the control endpoint steers: the mounted kinds' faults and the server's call log. */
export interface SandboxControlOptions {
  /** The kinds mounted, in the order the endpoint lists them. */
  kinds: readonly ProviderKind[];
  faults: SandboxFaultRegistry;
  calls: CallLog;
}

/** The control endpoint's answer to one request; bad input is a 400 that says what was expected. */
export type SandboxControl = (method: string, url: URL, body: string) => SimResponse;

export function createSandboxControl(options: SandboxControlOptions): SandboxControl {
  const { kinds, faults, calls } = options;
  const kindOf = (encoded: string): ProviderKind => {
    let kind: string;
    try {
      kind = decodeURIComponent(encoded);
    } catch {
      throw new SandboxFaultError(`"${encoded}" is not a valid URL path segment`);
    }
    if (!kinds.includes(kind as ProviderKind)) {
      throw new SandboxFaultError(
        `no simulator of kind "${kind}" on this sandbox; expected one of ${kinds.join(', ')}`,
      );
    }
    return kind as ProviderKind;
  };

  return (method, url, body) => {
    const route = url.pathname.slice(SANDBOX_CONTROL_PATH.length).replace(/\/$/, '');
    try {
      if (route === '') {
        return allow(method, ['GET'], () => json(200, { kinds, routes: CONTROL_ROUTES }));
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
          const wanted = url.searchParams.getAll('kind').map(kindOf);
          const selected = (call: RecordedCall) =>
            wanted.length === 0 || wanted.includes(call.kind);
          if (method === 'DELETE') return json(200, { removed: calls.removeCalls(selected) });
          return json(200, { calls: calls.calls().filter(selected).map(redact) });
        });
      }
      if (route === '/stats') {
        return allow(method, ['GET', 'DELETE'], () => {
          if (method === 'DELETE') calls.clearStats();
          return json(200, { stats: calls.stats() });
        });
      }
      return json(404, {
        message: `no sandbox control route ${method} ${url.pathname}; see GET ${SANDBOX_CONTROL_PATH}`,
      });
    } catch (error) {
      if (error instanceof SandboxFaultError) return json(400, { message: error.message });
      return json(500, { message: 'sandbox control failure' });
    }
  };
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
