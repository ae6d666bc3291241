import { PROVIDER_KINDS } from '../providers/kinds.js';
import { createMovableClock, type MovableClock } from './clock.js';
import { createSandboxBalanceEditor } from './control.js';
import { createDemoSandboxData } from './demo.js';
import type { SandboxFaults } from './faults.js';
import { kindSandbox, type SandboxData, type SandboxSimulators } from './kinds.js';
import { type SandboxServer, startSandboxServer } from './server.js';

export interface SandboxOptions {
  /** Default: the demo data. */
  data?: SandboxData;
  /** Default: real time, movable by tests. */
  clock?: MovableClock;
  host?: string;
  port?: number;
  /** Faults in place from the start, as `balance-api sandbox --fault` sets them; default none. */
  faults?: SandboxFaults;
  /** A fixed delay before every answer; default 0. */
  latencyMs?: number;
  /** Keep every call for `calls()`; default true. */
  recordCalls?: boolean;
}

/**
 * Every kind's simulator on one real HTTP server, with handles to steer each of them; `setFault`,
 * `clearFaults` and `faults` (or the control endpoint at `controlUrl`) make them fail.
 */
export interface Sandbox extends SandboxServer {
  clock: MovableClock;
  simulators: SandboxSimulators;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const data = options.data ?? createDemoSandboxData();
  const clock = options.clock ?? createMovableClock();
  const simulators = Object.fromEntries(
    PROVIDER_KINDS.map((kind) => [kind, kindSandbox(kind).createSimulator(data[kind], clock)]),
  ) as SandboxSimulators;
  const server = await startSandboxServer({
    simulators: Object.values(simulators),
    clock,
    balances: createSandboxBalanceEditor(data.pik),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    ...(options.recordCalls === undefined ? {} : { recordCalls: options.recordCalls }),
  });
  return Object.assign(server, { clock, simulators });
}
