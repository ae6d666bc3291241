import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  LosslessNumber,
  parse as parseLossless,
  stringify as stringifyLossless,
} from 'lossless-json';
import {
  SANDBOX_BAD_TOKEN,
  SANDBOX_DUPLICATE_KEY,
  SANDBOX_HUGE_AMOUNT,
  type SandboxFault,
  type SandboxFaultType,
  sandboxLongToken,
} from './faults.js';
import {
  json,
  type SimRequest,
  type SimResponse,
  type Simulator,
  sendSimResponse,
  statusMessage,
} from './simulator.js';

/**
 * How a fault answers a call: instead of the simulator (`answerWithFault`), or by altering the
 * simulator's own answer (`alterAnswer`, for the faults `altersAnswer` names).
 */

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

/** Whether the fault alters the simulator's answer (else it answers instead of the simulator). */
export function altersAnswer(fault: SandboxFault): boolean {
  return ALTERING_FAULTS.has(fault.type);
}

/** Answers a call the way the fault says, instead of the simulator, and records it. */
export function answerWithFault(
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
      sendSimResponse(res, { status: 200, body: INVALID_JSON_BODY });
      return;
    case 'status': {
      const response = errorResponse(fault.status ?? 503);
      record(response.status, fault.type);
      sendSimResponse(res, response);
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
      sendSimResponse(res, {
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
      sendSimResponse(res, response);
      return;
    }
  }
}

/**
 * The simulator's answer as a fault alters it; only a success (200 with a body) is altered.
 * Bodies are read and written with lossless-json, so every other number keeps its digits.
 */
export function alterAnswer(
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
