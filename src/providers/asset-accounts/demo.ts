import type { AssetAccountsSimulatorOptions } from './sandbox.js';

/** The demo customer's login and TOTP seed: public sandbox values, never real ones. */
export const ASSET_ACCOUNTS_DEMO_CREDENTIALS = {
  username: 'demo-ops',
  password: 'demo-ops-password',
  otpSecret: 'JBSWY3DPEHPK3PXP',
} as const;

/** What the asset-accounts simulator is started with, but the sandbox's clock. */
export type AssetAccountsSandboxData = Omit<AssetAccountsSimulatorOptions, 'clock'>;

/** The asset accounts' demo data: USD and USDT held elsewhere too, and a suppressed account. */
export function createAssetAccountsDemoData(): AssetAccountsSandboxData {
  return {
    customers: [
      {
        ...ASSET_ACCOUNTS_DEMO_CREDENTIALS,
        details: [
          {
            id: 101,
            asset: 'USD',
            totalBalance: '2500.10',
            availableBalance: '2200.10',
            pendingBalance: '300.00',
          },
          {
            id: 102,
            asset: 'USDT',
            totalBalance: '1000.000001',
            availableBalance: '1000.000001',
            pendingBalance: '0',
          },
          {
            id: 103,
            asset: 'GBP',
            totalBalance: '75.5',
            availableBalance: '75.5',
            pendingBalance: '0',
            bSuppressed: true,
          },
        ],
      },
    ],
  };
}

/** The demo tenant's asset-accounts providers, at the simulator at `baseUrl`. */
export function assetAccountsDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      id: 'ops',
      kind: 'asset-accounts',
      name: 'Operations asset accounts',
      baseUrl,
      credentials: { ...ASSET_ACCOUNTS_DEMO_CREDENTIALS },
    },
  ];
}
