import { assetAccountsSandbox } from '../providers/asset-accounts/sandbox.js';
import { PROVIDER_KINDS, type ProviderKind } from '../providers/kinds.js';
import { merchantSandbox } from '../providers/merchant/sandbox.js';
import { pikSandbox } from '../providers/pik/sandbox.js';
import { prepaidSandbox } from '../providers/prepaid/sandbox.js';
import { restSandbox } from '../providers/rest/sandbox.js';
import { walletSandbox } from '../providers/wallet/sandbox.js';
import type { ProviderKindSandbox } from './simulator.js';

/**
 * The sandbox part of every provider kind: its simulator and demo data. A second list beside
 * `src/providers/kinds.ts` so that production never loads simulator code; the compiler holds the
 * two lists to the same kinds.
 */
export const SANDBOX_KINDS = {
  pik: pikSandbox,
  'asset-accounts': assetAccountsSandbox,
  merchant: merchantSandbox,
  wallet: walletSandbox,
  prepaid: prepaidSandbox,
  rest: restSandbox,
} satisfies { readonly [K in ProviderKind]: ProviderKindSandbox };

type SandboxKinds = typeof SANDBOX_KINDS;

/** What each kind's simulator is started with: the demo data, or a test's own. */
export type SandboxData = { [K in ProviderKind]: ReturnType<SandboxKinds[K]['demoData']> };

/** The simulator of each kind, with the handles tests steer it by. */
export type SandboxSimulators = {
  [K in ProviderKind]: ReturnType<SandboxKinds[K]['createSimulator']>;
};

/** The sandbox part of kind `kind`. */
export function kindSandbox(kind: ProviderKind): ProviderKindSandbox {
  return SANDBOX_KINDS[kind];
}

/** Whether a call to `path` (relative to the kind's mount) is one of the kind's logins. */
export function isLoginCall(kind: ProviderKind, path: string): boolean {
  return SANDBOX_KINDS[kind].isLogin(path);
}

/** The request headers that carry some kind's credentials. */
export const SANDBOX_REDACTED_HEADERS: readonly string[] = [
  ...new Set(PROVIDER_KINDS.flatMap((kind) => SANDBOX_KINDS[kind].redactHeaders)),
];
