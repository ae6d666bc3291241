import { isProviderKind, PROVIDER_KINDS, type ProviderKind } from '../providers/kinds.js';
import { isLoginCall } from './kinds.js';

export const SANDBOX_FAULT_TYPES = [
  'status',
  'hang',
  'reset',
  'truncated',
  'invalid-json',
  'rate-limit',
  'auth-once',
  'reset-body',
  'huge-amount',
  'duplicate-key',
  'bad-token',
  'long-token',
] as const;

/**
 * What a faulty simulator does instead of answering:
 * - `status`: an error status with the kind's own error body;
 * - `hang`: reads the request and never answers;
 * - `reset`: destroys the connection without an answer;
 * - `truncated`: 200 with a `content-length` larger than the bytes sent, then closes;
 * - `invalid-json`: 200 `application/json` with a body that is not JSON;
 * - `rate-limit`: 429 with `Retry-After`;
 * - `auth-once`: the kind's own "token rejected" answer (once, unless `times` says otherwise);
 * - `reset-body`: 200, its headers and part of its body, then a TCP reset (RST);
 * - `huge-amount`: the kind's own successful answer with every amount the raw JSON number
 *   `1e9000000` (a number token even where the kind sends amounts as strings);
 * - `duplicate-key`: the kind's own successful answer with SANDBOX_DUPLICATE_KEY twice at its
 *   top level, with two different values;
 * - `bad-token`: a successful login whose token is SANDBOX_BAD_TOKEN (it holds CR LF);
 * - `long-token`: a successful login whose token is `tokenLength` visible characters
 *   (sandboxLongToken); at the default 20 000 the sandbox's own server answers 431 to a request
 *   that carries it, as its header limit is Node's 16 KiB.
 * The token faults apply to logins, and only to them, of the kinds that have one.
 */
export type SandboxFaultType = (typeof SANDBOX_FAULT_TYPES)[number];

/** Faults that change a login's token; they meet logins only. */
const TOKEN_FAULT_TYPES: ReadonlySet<SandboxFaultType> = new Set(['bad-token', 'long-token']);

/** Whether a fault changes the token of a login (and so meets logins only). */
export function isTokenFault(fault: SandboxFault): boolean {
  return TOKEN_FAULT_TYPES.has(fault.type);
}

/** The token `bad-token` logins hand out: a header line break, then a canary. */
export const SANDBOX_BAD_TOKEN = 'canary-bad-token\r\nx-injected: canary-bad-token';

/** The key `duplicate-key` repeats: over 10 KB, starting with a canary. */
export const SANDBOX_DUPLICATE_KEY = `canary-duplicate-key-${'k'.repeat(10 * 1024)}`;

/** The amount `huge-amount` writes, as a raw JSON number: a 9-million-digit integer. */
export const SANDBOX_HUGE_AMOUNT = '1e9000000';

/** The default `tokenLength` of `long-token`: more than Node's 16 KiB header limit. */
export const DEFAULT_LONG_TOKEN_LENGTH = 20_000;
const MAX_LONG_TOKEN_LENGTH = 1024 * 1024;

/** The token `long-token` logins hand out: `length` visible ASCII characters, starting with a canary. */
export function sandboxLongToken(length: number = DEFAULT_LONG_TOKEN_LENGTH): string {
  const prefix = 'canary-long-token-';
  return length <= prefix.length ? prefix.slice(0, length) : prefix.padEnd(length, 'x');
}

/**
 * A fault of one kind's simulator: answered instead of the simulator, or (huge-amount,
 * duplicate-key and the token faults) by altering its successful answer.
 */
export interface SandboxFault {
  type: SandboxFaultType;
  /** For `status`: the HTTP status, 400 to 599; default 503. */
  status?: number;
  /** For `rate-limit`: the `Retry-After` header in whole seconds; default 1. */
  retryAfterSeconds?: number;
  /**
   * For `rate-limit`, instead of `retryAfterSeconds`: the `Retry-After` header exactly as sent,
   * for values no number holds (`99999999999999999999999`) or that are not numbers (`1e400`).
   */
  retryAfter?: string;
  /** For `long-token`: the token's length in characters; default 20 000. */
  tokenLength?: number;
  /** How many affected calls get the fault before it goes; default unlimited (auth-once: 1). */
  times?: number;
  /** Whether logins (each kind says which calls are) get the fault too; default false (token faults: logins only). */
  includeLogin?: boolean;
}

/** The current fault of each kind that has one. */
export type SandboxFaults = Partial<Record<ProviderKind, SandboxFault>>;

/** A fault or fault spec that cannot be used, with a message that says why. */
export class SandboxFaultError extends Error {
  override name = 'SandboxFaultError';
}

const FAULT_FIELDS = [
  'type',
  'status',
  'retryAfterSeconds',
  'retryAfter',
  'tokenLength',
  'times',
  'includeLogin',
] as const;
const SIMPLE_SPECS: Partial<Record<string, SandboxFaultType>> = {
  hang: 'hang',
  reset: 'reset',
  'reset-body': 'reset-body',
  truncated: 'truncated',
  'invalid-json': 'invalid-json',
  'huge-amount': 'huge-amount',
  'duplicate-key': 'duplicate-key',
  'auth-once': 'auth-once',
  'bad-token': 'bad-token',
};
const SPEC_SYNTAX =
  'a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, reset-body, ' +
  'truncated, invalid-json, huge-amount, duplicate-key, auth-once, bad-token or ' +
  'long-token[:LENGTH], optionally followed by xN (N calls) and +login';

/**
 * Checks a fault given by a test or the control endpoint and returns it with the defaults of its
 * type written out (`status`, `retryAfterSeconds`, and `times` for auth-once). Throws
 * SandboxFaultError naming the field that is wrong, what was expected and what was received.
 */
export function validateSandboxFault(value: unknown, label = 'fault'): SandboxFault {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SandboxFaultError(
      `${label}: expected an object such as {"type":"status","status":503}, received ${describe(value)}`,
    );
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!(FAULT_FIELDS as readonly string[]).includes(key)) {
      throw new SandboxFaultError(
        `${label}.${key}: unknown field; expected only ${FAULT_FIELDS.join(', ')}`,
      );
    }
  }
  const { type } = input;
  if (typeof type !== 'string' || !(SANDBOX_FAULT_TYPES as readonly string[]).includes(type)) {
    throw new SandboxFaultError(
      `${label}.type: expected one of ${SANDBOX_FAULT_TYPES.join(', ')}; received ${describe(type)}`,
    );
  }
  const fault: SandboxFault = { type: type as SandboxFaultType };

  if (input.status !== undefined && type !== 'status') {
    throw new SandboxFaultError(
      `${label}.status: only a "status" fault has a status; this one is "${type}"`,
    );
  }
  if (type === 'status') {
    const status = input.status ?? 503;
    if (!Number.isInteger(status) || (status as number) < 400 || (status as number) > 599) {
      throw new SandboxFaultError(
        `${label}.status: expected an integer HTTP status from 400 to 599, received ${describe(status)}`,
      );
    }
    fault.status = status as number;
  }

  for (const field of ['retryAfterSeconds', 'retryAfter'] as const) {
    if (input[field] !== undefined && type !== 'rate-limit') {
      throw new SandboxFaultError(
        `${label}.${field}: only a "rate-limit" fault has a Retry-After; this one is "${type}"`,
      );
    }
  }
  if (type === 'rate-limit' && input.retryAfter !== undefined) {
    if (input.retryAfterSeconds !== undefined) {
      throw new SandboxFaultError(
        `${label}.retryAfter: give either retryAfter or retryAfterSeconds, not both`,
      );
    }
    // Anything a header can carry, hostile values included; Node refuses control characters.
    const text = input.retryAfter;
    if (typeof text !== 'string' || !/^[\x20-\x7e]{1,1000}$/.test(text) || text.trim() === '') {
      throw new SandboxFaultError(
        `${label}.retryAfter: expected a header value of 1 to 1000 printable ASCII characters, received ${
          typeof text !== 'string'
            ? describe(text)
            : text.trim() === ''
              ? 'a blank string'
              : text.length > 1000
                ? `${text.length} characters`
                : 'a string with other characters'
        }`,
      );
    }
    fault.retryAfter = text;
  } else if (type === 'rate-limit') {
    const seconds = input.retryAfterSeconds ?? 1;
    if (!Number.isInteger(seconds) || (seconds as number) < 0) {
      throw new SandboxFaultError(
        `${label}.retryAfterSeconds: expected a whole number of seconds, 0 or more, received ${describe(seconds)}`,
      );
    }
    fault.retryAfterSeconds = seconds as number;
  }

  if (input.tokenLength !== undefined && type !== 'long-token') {
    throw new SandboxFaultError(
      `${label}.tokenLength: only a "long-token" fault has a token length; this one is "${type}"`,
    );
  }
  if (type === 'long-token') {
    const length = input.tokenLength ?? DEFAULT_LONG_TOKEN_LENGTH;
    if (
      !Number.isInteger(length) ||
      (length as number) < 1 ||
      (length as number) > MAX_LONG_TOKEN_LENGTH
    ) {
      throw new SandboxFaultError(
        `${label}.tokenLength: expected a whole number of characters from 1 to ${MAX_LONG_TOKEN_LENGTH}, received ${describe(length)}`,
      );
    }
    fault.tokenLength = length as number;
  }

  const times = input.times ?? (type === 'auth-once' ? 1 : undefined);
  if (times !== undefined) {
    if (!Number.isInteger(times) || (times as number) < 1) {
      throw new SandboxFaultError(
        `${label}.times: expected a positive integer (omit it for unlimited), received ${describe(times)}`,
      );
    }
    fault.times = times as number;
  }

  if (input.includeLogin !== undefined) {
    if (typeof input.includeLogin !== 'boolean') {
      throw new SandboxFaultError(
        `${label}.includeLogin: expected true or false, received ${describe(input.includeLogin)}`,
      );
    }
    if (input.includeLogin && TOKEN_FAULT_TYPES.has(fault.type)) {
      throw new SandboxFaultError(
        `${label}.includeLogin: a "${type}" fault applies to logins, and only to them; drop includeLogin`,
      );
    }
    if (input.includeLogin) fault.includeLogin = true;
  }
  return fault;
}

/**
 * Parses the compact form of one fault, as `--fault` and the control endpoint take it:
 * `503`, `503x2` (twice), `429:30` (rate-limit, Retry-After 30; digits beyond what a number
 * holds are sent as they are), `rate-limit`, `hang`, `reset`, `reset-body`, `truncated`,
 * `invalid-json`, `huge-amount`, `duplicate-key`, `auth-once`, `bad-token`, `long-token[:LENGTH]`;
 * `+login` at the end affects logins too (token faults meet only logins, without it).
 */
export function parseSandboxFault(spec: string): SandboxFault {
  return withPrefix(`fault "${spec}"`, () => faultOfSpec(spec));
}

/** Parses `KIND=SPEC`, the argument of `balance-api sandbox --fault`. */
export function parseSandboxFaultArgument(text: string): {
  kind: ProviderKind;
  fault: SandboxFault;
} {
  const equals = text.indexOf('=');
  if (equals < 0) {
    throw new SandboxFaultError(`expected KIND=FAULT such as pik=503, received "${text}"`);
  }
  const kind = text.slice(0, equals).trim();
  if (!isProviderKind(kind)) {
    throw new SandboxFaultError(
      `"${text}": unknown kind "${kind}"; expected one of ${PROVIDER_KINDS.join(', ')}`,
    );
  }
  const fault = withPrefix(`"${text}"`, () => faultOfSpec(text.slice(equals + 1)));
  return { kind, fault };
}

/** A spec's fault; errors say what is wrong, without naming the spec. */
function faultOfSpec(spec: string): SandboxFault {
  let rest = spec.trim();
  if (rest === '') throw new SandboxFaultError(`expected a fault: ${SPEC_SYNTAX}`);
  const includeLogin = rest.endsWith('+login');
  if (includeLogin) rest = rest.slice(0, -'+login'.length);
  // Said here in the spec's own terms; validateSandboxFault would name the field instead.
  const tokenFault = [...TOKEN_FAULT_TYPES].find((type) => rest.startsWith(type));
  if (includeLogin && tokenFault !== undefined) {
    throw new SandboxFaultError(
      `a "${tokenFault}" fault applies to logins, and only to them; drop +login`,
    );
  }
  if (rest.includes('+')) {
    throw new SandboxFaultError(
      `"${rest.slice(rest.indexOf('+'))}" is not a modifier; the only one is +login, at the end`,
    );
  }

  let times: number | undefined;
  const repeat = rest.match(/^(.+)x([^x]*)$/);
  if (repeat?.[1] !== undefined && repeat[2] !== undefined && baseFault(repeat[1])) {
    if (!/^[1-9]\d*$/.test(repeat[2])) {
      throw new SandboxFaultError(`expected a positive count after "x", received "${repeat[2]}"`);
    }
    times = Number(repeat[2]);
    rest = repeat[1];
  }

  const fault = baseFault(rest);
  if (fault === undefined) {
    throw new SandboxFaultError(`unknown fault; expected ${SPEC_SYNTAX}`);
  }
  return validateSandboxFault({
    ...fault,
    ...(times === undefined ? {} : { times }),
    ...(includeLogin ? { includeLogin } : {}),
  });
}

/** The fault a spec names without its `xN` and `+login`; undefined when it names none. */
function baseFault(text: string): SandboxFault | undefined {
  const simple = SIMPLE_SPECS[text];
  if (simple !== undefined) return { type: simple };
  const rateLimit = text.match(/^(?:429|rate-limit)(?::(.*))?$/);
  if (rateLimit) {
    const seconds = rateLimit[1];
    if (seconds !== undefined && !/^\d+$/.test(seconds)) {
      throw new SandboxFaultError(
        `expected Retry-After as whole seconds after ":", received "${seconds}"`,
      );
    }
    if (seconds !== undefined && !Number.isSafeInteger(Number(seconds))) {
      // More seconds than a number holds: sent exactly as written.
      return { type: 'rate-limit', retryAfter: seconds };
    }
    return { type: 'rate-limit', retryAfterSeconds: seconds === undefined ? 1 : Number(seconds) };
  }
  const longToken = text.match(/^long-token(?::(.*))?$/);
  if (longToken) {
    const length = longToken[1];
    if (length !== undefined && !/^[1-9]\d*$/.test(length)) {
      throw new SandboxFaultError(
        `expected the token length as whole characters after ":", received "${length}"`,
      );
    }
    return {
      type: 'long-token',
      tokenLength: length === undefined ? DEFAULT_LONG_TOKEN_LENGTH : Number(length),
    };
  }
  if (/^\d+$/.test(text)) {
    const status = Number(text);
    if (status < 400 || status > 599) {
      throw new SandboxFaultError(
        `status ${text} is not an error; expected a status from 400 to 599`,
      );
    }
    return { type: 'status', status };
  }
  return undefined;
}

function withPrefix<T>(prefix: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof SandboxFaultError) {
      throw new SandboxFaultError(`${prefix}: ${error.message}`);
    }
    throw error;
  }
}

/** The compact form of a fault, as `parseSandboxFault` reads it back. */
export function formatSandboxFault(fault: SandboxFault): string {
  const base =
    fault.type === 'status'
      ? String(fault.status ?? 503)
      : fault.type === 'rate-limit'
        ? `429:${fault.retryAfter ?? fault.retryAfterSeconds ?? 1}`
        : fault.type === 'long-token'
          ? `long-token:${fault.tokenLength ?? DEFAULT_LONG_TOKEN_LENGTH}`
          : fault.type;
  const defaultTimes =
    fault.times === undefined || (fault.type === 'auth-once' && fault.times === 1);
  return `${base}${defaultTimes ? '' : `x${fault.times}`}${fault.includeLogin ? '+login' : ''}`;
}

/** The faults of a sandbox server, one per kind at most. */
export interface SandboxFaultRegistry {
  /** Sets (after validating) or, with undefined, removes the fault of one kind. */
  set(kind: ProviderKind, fault: SandboxFault | undefined): void;
  clear(): void;
  /** Copies of the current faults, with the calls left in `times`. */
  list(): SandboxFaults;
  /**
   * The fault a call to `path` of this kind gets, or undefined; counts the call against `times`
   * and removes the fault when none are left.
   */
  take(kind: ProviderKind, path: string): SandboxFault | undefined;
}

/**
 * The faults of the simulators of `kinds`; `loginKinds` are those with a login, the only ones a
 * token fault can meet (default: all of `kinds`).
 */
export function createSandboxFaultRegistry(
  kinds: readonly ProviderKind[],
  loginKinds: readonly ProviderKind[] = kinds,
): SandboxFaultRegistry {
  const faults = new Map<ProviderKind, SandboxFault>();
  return {
    set(kind, fault) {
      if (!kinds.includes(kind)) {
        throw new SandboxFaultError(
          `no simulator of kind ${describe(kind)} on this sandbox; it has ${kinds.join(', ') || 'none'}`,
        );
      }
      if (fault === undefined) {
        faults.delete(kind);
        return;
      }
      const valid = validateSandboxFault(fault);
      if (isTokenFault(valid) && !loginKinds.includes(kind)) {
        throw new SandboxFaultError(
          `a "${valid.type}" fault needs a kind that logs in (${loginKinds.join(', ')}); ${kind} has no login`,
        );
      }
      faults.set(kind, valid);
    },
    clear: () => faults.clear(),
    list: () => Object.fromEntries([...faults].map(([kind, fault]) => [kind, { ...fault }])),
    take(kind, path) {
      const fault = faults.get(kind);
      if (fault === undefined) return undefined;
      const login = isLoginCall(kind, path);
      // A token fault meets logins only; the others meet logins only with includeLogin.
      if (isTokenFault(fault) ? !login : login && !fault.includeLogin) return undefined;
      if (fault.times !== undefined) {
        fault.times -= 1;
        if (fault.times <= 0) faults.delete(kind);
      }
      return { ...fault };
    },
  };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return JSON.stringify(value) ?? String(value);
}
