import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';

/** A real balance-api logger whose lines are kept in memory, for tests that read them. */
export function captureLogs(level = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { log: createLogger({ level, destination }), lines };
}
