import type { Logger } from './logger.js';
import type { DrainTimers } from './shutdown.js';

/** How often at most the count of refused connections is logged (ms). */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

/** Timers that never keep the process alive: a pending count is no reason to stay up. */
const UNREF_TIMERS: DrainTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface RefusalLog {
  /** One connection was refused. */
  refused(): void;
  /** Logs what is counted and not yet logged, and stops the timer (the server is closing). */
  flush(): void;
}

/**
 * The warn lines for connections refused over `server.maxConnections`, which come in floods: the
 * first refusal is logged at once; the ones after it are counted and their count logged one
 * minute later, then each minute while they go on. A minute without refusals ends the series, and
 * the next refusal is logged at once again.
 */
export function createRefusalLog(
  log: Logger | undefined,
  maxConnections: number,
  timers: DrainTimers = UNREF_TIMERS,
): RefusalLog {
  let timer: unknown;
  let counted = 0;

  /** Logs the count, if any; true if there was one. */
  function logCount(): boolean {
    if (counted === 0) return false;
    log?.warn(
      { maxConnections, refused: counted },
      `${counted} connection${counted === 1 ? '' : 's'} refused in the last minute: server.maxConnections reached`,
    );
    counted = 0;
    return true;
  }

  function endOfMinute(): void {
    // Refusals went on: count the next minute's too. A quiet minute ends the series.
    timer = logCount() ? timers.setTimeout(endOfMinute, REFUSAL_LOG_INTERVAL_MS) : undefined;
  }

  return {
    refused() {
      if (timer !== undefined) {
        counted += 1;
        return;
      }
      log?.warn(
        { maxConnections, refused: 1 },
        'connections refused: server.maxConnections reached',
      );
      timer = timers.setTimeout(endOfMinute, REFUSAL_LOG_INTERVAL_MS);
    },
    flush() {
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      logCount();
    },
  };
}
