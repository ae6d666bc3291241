import type { ProviderKind } from '../../src/providers/kinds.js';
import { createDemoSandboxData, type SandboxData } from '../../src/sandbox/demo.js';
import { BUILT_IN_KINDS, demoConfigDocument } from './app.js';

/**
 * Canary credentials for the demo providers, by provider id: each value contains `canary` (the
 * TOTP seed, which must be base32, is `CANARYQQ...`), so a test can search any output for it.
 */
export function canaryCredentials(canary: string): Record<string, Record<string, string>> {
  return {
    'pik-main': { appId: `${canary}-pik-app`, appSecret: `${canary}-pik-secret` },
    ops: {
      username: `${canary}-ops`,
      password: `${canary}-ops-password`,
      // Base32, as a TOTP seed must be; itself a canary.
      otpSecret: 'CANARYQQCANARYQQCANARYQQCANARYQQ',
    },
    acquirer: { clientId: `${canary}-merchant`, clientSecret: `${canary}-merchant-secret` },
    treasury: { apiKey: `${canary}-wallet-api-key` },
    sms: { devKey: `${canary}-sms`, devSecret: `${canary}-sms-secret` },
    voice: { devKey: `${canary}-voice`, devSecret: `${canary}-voice-secret` },
    ledgerly: { clientId: `${canary}-ledgerly`, clientSecret: `${canary}-ledgerly-secret` },
  };
}

/**
 * The sandbox's demo data with `credentials` (by provider id) in place of the demo ones, so the
 * simulators accept those and only those; `wallet` adds to the wallet's (e.g. a login as well as
 * an API key).
 */
export function canarySandboxData(
  credentials: Record<string, Record<string, string>>,
  wallet: Record<string, string> = {},
): SandboxData {
  const data = createDemoSandboxData();
  Object.assign(data.pik.customers[0] ?? {}, credentials['pik-main']);
  Object.assign(data['asset-accounts'].customers[0] ?? {}, credentials.ops);
  Object.assign(data.merchant.merchants[0] ?? {}, credentials.acquirer);
  Object.assign(data.wallet.wallets[0] ?? {}, credentials.treasury, wallet);
  Object.assign(data.prepaid.merchants[0] ?? {}, credentials.sms);
  Object.assign(data.prepaid.merchants[1] ?? {}, credentials.voice);
  Object.assign(data.rest.clients[0] ?? {}, credentials.ledgerly);
  return data;
}

/**
 * The demo providers of `kinds` (default `BUILT_IN_KINDS`) with `credentials` (by provider id, as
 * `canaryCredentials` makes them) in place of the demo ones, and every provider's settings
 * extended by `extra`.
 */
export function canaryProviders(
  baseUrl: (kind: string) => string,
  credentials: Record<string, Record<string, string>>,
  extra: Record<string, unknown> = {},
  kinds: readonly ProviderKind[] = BUILT_IN_KINDS,
): Record<string, unknown>[] {
  return demoConfigDocument(baseUrl, kinds).providers.map(
    (provider): Record<string, unknown> => ({
      ...provider,
      credentials: credentials[provider.id as string],
      ...extra,
    }),
  );
}
