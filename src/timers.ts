/**
 * Timers as the parts that run on them take them (the pollers, the polling lease, the drain):
 * tests pass timers they fire by moving a clock.
 */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real timers, unref'd: background work (a poll, a lease renewal) never keeps the process alive. */
export const BACKGROUND_TIMERS: Timers = {
  setTimeout: (callback, ms) => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
