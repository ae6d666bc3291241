import type { SandboxClock } from './simulator.js';

/** Real time plus an offset that tests can move forward; shared by simulators and balance-api. */
export interface MovableClock extends SandboxClock {
  advance(ms: number): void;
}

export function createMovableClock(start: () => number = Date.now): MovableClock {
  let offset = 0;
  return {
    now: () => start() + offset,
    advance: (ms) => {
      offset += ms;
    },
  };
}
