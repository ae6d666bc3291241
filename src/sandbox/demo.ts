import { ASSET_ACCOUNTS_DEMO_CREDENTIALS } from '../providers/asset-accounts/demo.js';
import { PROVIDER_KINDS, type ProviderKind } from '../providers/kinds.js';
import { MERCHANT_DEMO_CREDENTIALS } from '../providers/merchant/demo.js';
import { PIK_DEMO_CREDENTIALS } from '../providers/pik/demo.js';
import {
  PREPAID_SMS_DEMO_CREDENTIALS,
  PREPAID_VOICE_DEMO_CREDENTIALS,
} from '../providers/prepaid/demo.js';
import { DEMO_WALLET_ID, WALLET_DEMO_CREDENTIALS } from '../providers/wallet/demo.js';
import { kindSandbox, SANDBOX_KINDS, type SandboxData } from './kinds.js';

export type { SandboxData };
export { DEMO_WALLET_ID };

/**
 * The demo credentials of the kinds the tests log in to by hand: public sandbox values, never
 * real ones. Each kind's own are in its folder's `demo.ts`.
 */
export const DEMO_CREDENTIALS = {
  pik: PIK_DEMO_CREDENTIALS,
  assetAccounts: ASSET_ACCOUNTS_DEMO_CREDENTIALS,
  merchant: MERCHANT_DEMO_CREDENTIALS,
  wallet: WALLET_DEMO_CREDENTIALS,
  prepaidSms: PREPAID_SMS_DEMO_CREDENTIALS,
  prepaidVoice: PREPAID_VOICE_DEMO_CREDENTIALS,
} as const;

/**
 * The sandbox's demo data, every kind's: what `npm start` shows. The amounts are chosen to break
 * floats: 9007199254740993.01 (beyond 2^53), 0.000000000000000001 (18 places), and HKD 0.1 and
 * 0.2 at two providers, which must total 0.3. USD is held at three providers and USDT at two, so
 * totals add across kinds.
 */
export function createDemoSandboxData(): SandboxData {
  return Object.fromEntries(
    PROVIDER_KINDS.map((kind) => [kind, SANDBOX_KINDS[kind].demoData()]),
  ) as SandboxData;
}

/**
 * The demo tenant's configuration document for a sandbox at `baseUrl(kind)`: the demo providers of
 * `kinds`, in that order (default every kind, as `npm start` shows them).
 */
export function createDemoConfigDocument(
  baseUrl: (kind: string) => string,
  kinds: readonly ProviderKind[] = PROVIDER_KINDS,
): {
  providers: Record<string, unknown>[];
} {
  return {
    providers: kinds.flatMap((kind) => kindSandbox(kind).demoProviders(baseUrl(kind))),
  };
}
