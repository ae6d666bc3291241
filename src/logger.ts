import { type Logger as PinoLogger, pino } from 'pino';

export type Logger = PinoLogger;

/**
 * Header and field names whose values are secrets, redacted wherever they appear in a log object.
 * Header names are matched in lower case, which is how undici and node:http report them.
 */
export const REDACTED_PATHS = [
  'headers.authorization',
  'headers.otp',
  'headers["x-api-key"]',
  'headers["x-refresh-token"]',
  '*.headers.authorization',
  '*.headers.otp',
  '*.headers["x-api-key"]',
  '*.headers["x-refresh-token"]',
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'password',
  '*.password',
];

export interface CreateLoggerOptions {
  /** Default "info"; LOG_LEVEL is read by config, not here. */
  level?: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  return pino(
    {
      name: 'balance-api',
      level: options.level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination as Parameters<typeof pino>[1],
  );
}

/** A logger that writes nothing, for tests and library use. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
