import { PROVIDER_KINDS, type ProviderKind } from '../config.js';

export const SANDBOX_FAULT_TYPES = [
  'status',
  'hang',
  'reset',
  'truncated',
  'invalid-json',
  'rate-limit',
  'auth-once',
] as const;

/**
 * What a faulty simulator does instead of answering:
 * - `status`: an error status with the kind's own error body;
 * - `hang`: reads the request and never answers;
 * - `reset`: destroys the connection without an answer;
 * - `truncated`: 200 with a `content-length` larger than the bytes sent, then closes;
 * - `invalid-json`: 200 `application/json` with a body that is not JSON;
 * - `rate-limit`: 429 with `Retry-After`;
 * - `auth-once`: the kind's own "token rejected" answer (once, unless `times` says otherwise).
 */
export type SandboxFaultType = (typeof SANDBOX_FAULT_TYPES)[number];

/** A fault of one kind's simulator, applied before the simulator sees the request. */
export interface SandboxFault {
  type: SandboxFaultType;
  /** For `status`: the HTTP status, 400 to 599; default 503. */
  status?: number;
  /** For `rate-limit`: the `Retry-After` header in whole seconds; default 1. */
  retryAfterSeconds?: number;
  /** How many affected calls get the fault before it goes; default unlimited (auth-once: 1). */
  times?: number;
  /** Whether logins (paths with `/auth/`) get the fault too; default false. */
  includeLogin?: boolean;
}

/** The current fault of each kind that has one. */
export type SandboxFaults = Partial<Record<ProviderKind, SandboxFault>>;

/** A fault or fault spec that cannot be used, with a message that says why. */
export class SandboxFaultError extends Error {
  override name = 'SandboxFaultError';
}

const FAULT_FIELDS = ['type', 'status', 'retryAfterSeconds', 'times', 'includeLogin'] as const;
const SIMPLE_SPECS: Partial<Record<string, SandboxFaultType>> = {
  hang: 'hang',
  reset: 'reset',
  truncated: 'truncated',
  'invalid-json': 'invalid-json',
  'auth-once': 'auth-once',
};
const SPEC_SYNTAX =
  'a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, truncated, ' +
  'invalid-json or auth-once, optionally followed by xN (N calls) and +login';

/** Whether a call to this path (relative to the kind's mount) is a login. */
export function isLoginPath(path: string): boolean {
  return path.includes('/auth/');
}

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

  if (input.retryAfterSeconds !== undefined && type !== 'rate-limit') {
    throw new SandboxFaultError(
      `${label}.retryAfterSeconds: only a "rate-limit" fault has a Retry-After; this one is "${type}"`,
    );
  }
  if (type === 'rate-limit') {
    const seconds = input.retryAfterSeconds ?? 1;
    if (!Number.isInteger(seconds) || (seconds as number) < 0) {
      throw new SandboxFaultError(
        `${label}.retryAfterSeconds: expected a whole number of seconds, 0 or more, received ${describe(seconds)}`,
      );
    }
    fault.retryAfterSeconds = seconds as number;
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
    if (input.includeLogin) fault.includeLogin = true;
  }
  return fault;
}

/**
 * Parses the compact form of one fault, as `--fault` and the control endpoint take it:
 * `503`, `503x2` (twice), `429:30` (rate-limit, Retry-After 30), `rate-limit`, `hang`, `reset`,
 * `truncated`, `invalid-json`, `auth-once`; `+login` at the end affects logins too.
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
  if (!(PROVIDER_KINDS as readonly string[]).includes(kind)) {
    throw new SandboxFaultError(
      `"${text}": unknown kind "${kind}"; expected one of ${PROVIDER_KINDS.join(', ')}`,
    );
  }
  const fault = withPrefix(`"${text}"`, () => faultOfSpec(text.slice(equals + 1)));
  return { kind: kind as ProviderKind, fault };
}

/** A spec's fault; errors say what is wrong, without naming the spec. */
function faultOfSpec(spec: string): SandboxFault {
  let rest = spec.trim();
  if (rest === '') throw new SandboxFaultError(`expected a fault: ${SPEC_SYNTAX}`);
  const includeLogin = rest.endsWith('+login');
  if (includeLogin) rest = rest.slice(0, -'+login'.length);
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
    return { type: 'rate-limit', retryAfterSeconds: seconds === undefined ? 1 : Number(seconds) };
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
        ? `429:${fault.retryAfterSeconds ?? 1}`
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

export function createSandboxFaultRegistry(kinds: readonly ProviderKind[]): SandboxFaultRegistry {
  const faults = new Map<ProviderKind, SandboxFault>();
  return {
    set(kind, fault) {
      if (!kinds.includes(kind)) {
        throw new SandboxFaultError(
          `no simulator of kind ${describe(kind)} on this sandbox; it has ${kinds.join(', ') || 'none'}`,
        );
      }
      if (fault === undefined) faults.delete(kind);
      else faults.set(kind, validateSandboxFault(fault));
    },
    clear: () => faults.clear(),
    list: () => Object.fromEntries([...faults].map(([kind, fault]) => [kind, { ...fault }])),
    take(kind, path) {
      const fault = faults.get(kind);
      if (fault === undefined || (isLoginPath(path) && !fault.includeLogin)) return undefined;
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
