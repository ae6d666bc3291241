import {
  type AssetAccountsSimulator,
  createAssetAccountsSimulator,
} from '../providers/asset-accounts/index.js';
import { createMerchantSimulator, type MerchantSimulator } from '../providers/merchant/index.js';
import { createPikSimulator, type PikSimulator } from '../providers/pik/index.js';
import { createPrepaidSimulator, type PrepaidSimulator } from '../providers/prepaid/index.js';
import { createWalletSimulator, type WalletSimulator } from '../providers/wallet/index.js';
import { createMovableClock, type MovableClock } from './clock.js';
import { createDemoSandboxData, type SandboxData } from './demo.js';
import type { SandboxFaults } from './faults.js';
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
  simulators: {
    pik: PikSimulator;
    'asset-accounts': AssetAccountsSimulator;
    merchant: MerchantSimulator;
    wallet: WalletSimulator;
    prepaid: PrepaidSimulator;
  };
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const data = options.data ?? createDemoSandboxData();
  const clock = options.clock ?? createMovableClock();
  const simulators = {
    pik: createPikSimulator({ ...data.pik, clock }),
    'asset-accounts': createAssetAccountsSimulator({ ...data['asset-accounts'], clock }),
    merchant: createMerchantSimulator({ ...data.merchant, clock }),
    wallet: createWalletSimulator({ ...data.wallet, clock }),
    prepaid: createPrepaidSimulator(data.prepaid),
  };
  const server = await startSandboxServer({
    simulators: Object.values(simulators),
    clock,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.faults === undefined ? {} : { faults: options.faults }),
    ...(options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs }),
    ...(options.recordCalls === undefined ? {} : { recordCalls: options.recordCalls }),
  });
  return Object.assign(server, { clock, simulators });
}
