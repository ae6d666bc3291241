import type { PikSimulatorOptions } from './sandbox.js';

/** The demo customer's app id and secret: public sandbox values, never real ones. */
export const PIK_DEMO_CREDENTIALS = {
  appId: 'demo-pik-app',
  appSecret: 'demo-pik-secret',
} as const;

/** What the pik simulator is started with, but the sandbox's clock. */
export type PikSandboxData = Omit<PikSimulatorOptions, 'clock'>;

/**
 * PIK's demo data: amounts chosen to break floats (9007199254740993.01 beyond 2^53,
 * 0.000000000000000001 with 18 places, and HKD 0.1, which the prepaid demo's HKD 0.2 must total
 * 0.3 with).
 */
export function createPikDemoData(): PikSandboxData {
  return {
    customers: [
      {
        ...PIK_DEMO_CREDENTIALS,
        records: [
          {
            balanceNo: 'PIK-USD-001',
            accountType: 'GLOBAL_ACCOUNT',
            accountName: 'Operating USD',
            assetType: 'FIAT',
            currencyCode: 'USD',
            currencyName: 'US Dollar',
            networkCode: '',
            balance: '1500.25',
            availableBalance: '1200.25',
            frozenBalance: '100.00',
            pendingBalance: '200.00',
            status: 'ACTIVE',
            lastChangeTime: '2026-11-20T09:47:15.123Z',
          },
          {
            balanceNo: 'PIK-EUR-002',
            accountType: 'GLOBAL_ACCOUNT',
            accountName: 'Treasury EUR',
            assetType: 'FIAT',
            currencyCode: 'EUR',
            currencyName: 'Euro',
            networkCode: null,
            balance: '9007199254740993.01',
            availableBalance: '9007199254740993.01',
            frozenBalance: '0',
            pendingBalance: '0',
            status: 'ACTIVE',
            lastChangeTime: '2026-11-19T12:00:00.000Z',
          },
          {
            balanceNo: 'PIK-ETH-003',
            accountType: 'CRYPTO_ACCOUNT',
            accountName: 'Dust ETH',
            assetType: 'CRYPTO',
            currencyCode: 'ETH',
            currencyName: 'Ether',
            networkCode: 'ETH',
            balance: '0.000000000000000001',
            availableBalance: '0.000000000000000001',
            frozenBalance: '0',
            pendingBalance: '0',
            status: 'ACTIVE',
            lastChangeTime: '2026-11-18T08:30:00.000Z',
          },
          {
            balanceNo: 'PIK-HKD-004',
            accountType: 'GLOBAL_ACCOUNT',
            accountName: 'Petty cash HKD',
            assetType: 'FIAT',
            currencyCode: 'HKD',
            currencyName: 'Hong Kong Dollar',
            networkCode: '',
            balance: '0.1',
            availableBalance: '0.1',
            frozenBalance: '0',
            pendingBalance: '0',
            status: 'ACTIVE',
            lastChangeTime: '2026-11-17T16:20:00.000Z',
          },
        ],
      },
    ],
  };
}

/** The demo tenant's pik providers, at the simulator at `baseUrl`. */
export function pikDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      id: 'pik-main',
      kind: 'pik',
      name: 'PIK Global Account',
      baseUrl,
      credentials: { ...PIK_DEMO_CREDENTIALS },
    },
  ];
}
