import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

/**
 * Keys whose values are secrets wherever they appear in a logged object, compared in lower case
 * so that `Authorization`, `authorization` and `AUTHORIZATION` are all caught.
 */
const SECRET_KEYS = new Set([
  'authorization',
  'proxy-authorization',
  'otp',
  'x-api-key',
  'x-refresh-token',
  'cookie',
  'set-cookie',
  'credentials',
  'password',
  'secret',
  'token',
  'accesstoken',
  'sessiontoken',
  'refreshtoken',
  'apikey',
  'appsecret',
  'clientsecret',
  'devsecret',
  'otpsecret',
]);

const REDACTED = '[redacted]';

/** A copy of `value` with every secret-named key's value replaced, at any depth. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value instanceof Error) return { name: value.name, message: value.message };
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEYS.has(key.toLowerCase()) ? REDACTED : redactSecrets(item, depth + 1);
  }
  return out;
}

export interface CreateLoggerOptions {
  /** Default "info". */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: DestinationStream;
}

/** Structured JSON logs; every object logged passes through `redactSecrets` first. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      name: 'balance-api',
      level: options.level ?? 'info',
      formatters: { log: (object) => redactSecrets(object) as Record<string, unknown> },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * An unexpected error for the log: its name, its code and where it was thrown, not its message,
 * which a third-party library may have written with its input (a token, a secret) in it.
 */
export function describeUnexpectedError(error: unknown): {
  errorName: string;
  errorCode: string | null;
  at: string | null;
} {
  const { name, code, stack } = (error ?? {}) as {
    name?: unknown;
    code?: unknown;
    stack?: unknown;
  };
  const frame = typeof stack === 'string' ? /\n\s+at (.*)/.exec(stack)?.[1] : undefined;
  return {
    errorName: typeof name === 'string' ? name : typeof error,
    errorCode: typeof code === 'string' ? code : null,
    at: frame ?? null,
  };
}
