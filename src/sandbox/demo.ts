import type { PikSimulatorOptions } from '../providers/pik/index.js';
import type { PrepaidSimulatorOptions } from '../providers/prepaid/index.js';

/**
 * The sandbox's demo data: what `npm start` shows. The amounts are chosen to break floats:
 * 9007199254740993.01 (beyond 2^53), 0.000000000000000001 (18 places), and HKD 0.1 and 0.2 at two
 * providers, which must total 0.3.
 */
export interface SandboxData {
  pik: Omit<PikSimulatorOptions, 'clock'>;
  prepaid: PrepaidSimulatorOptions;
}

/** Demo credentials: public sandbox values, never real ones. */
export const DEMO_CREDENTIALS = {
  pik: { appId: 'demo-pik-app', appSecret: 'demo-pik-secret' },
  prepaidSms: { devKey: 'demo-sms', devSecret: 'demo-sms-secret' },
  prepaidVoice: { devKey: 'demo-voice', devSecret: 'demo-voice-secret' },
} as const;

export function createDemoSandboxData(): SandboxData {
  return {
    pik: {
      customers: [
        {
          ...DEMO_CREDENTIALS.pik,
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
    },
    prepaid: {
      merchants: [
        { ...DEMO_CREDENTIALS.prepaidSms, balance10000: '123456', giftBalance10000: '20000' },
        // 0.2 HKD: with the 0.1 HKD at PIK, totals must say exactly 0.3.
        { ...DEMO_CREDENTIALS.prepaidVoice, balance10000: '2000', giftBalance10000: '0' },
      ],
    },
  };
}

/** The demo tenant's configuration document for a sandbox at `baseUrl(kind)`. */
export function createDemoConfigDocument(baseUrl: (kind: string) => string): {
  providers: Record<string, unknown>[];
} {
  return {
    providers: [
      {
        id: 'pik-main',
        kind: 'pik',
        name: 'PIK Global Account',
        baseUrl: baseUrl('pik'),
        credentials: { ...DEMO_CREDENTIALS.pik },
      },
      {
        id: 'sms',
        kind: 'prepaid',
        name: 'SMS credit',
        baseUrl: baseUrl('prepaid'),
        currency: 'CNY',
        credentials: { ...DEMO_CREDENTIALS.prepaidSms },
      },
      {
        id: 'voice',
        kind: 'prepaid',
        name: 'Voice credit',
        baseUrl: baseUrl('prepaid'),
        currency: 'HKD',
        credentials: { ...DEMO_CREDENTIALS.prepaidVoice },
      },
    ],
  };
}
