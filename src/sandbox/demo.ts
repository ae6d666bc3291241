import type { AssetAccountsSimulatorOptions } from '../providers/asset-accounts/index.js';
import type { MerchantSimulatorOptions } from '../providers/merchant/index.js';
import type { PikSimulatorOptions } from '../providers/pik/index.js';
import type { PrepaidSimulatorOptions } from '../providers/prepaid/index.js';
import type { WalletSimulatorOptions } from '../providers/wallet/index.js';

/**
 * The sandbox's demo data: what `npm start` shows. The amounts are chosen to break floats:
 * 9007199254740993.01 (beyond 2^53), 0.000000000000000001 (18 places), and HKD 0.1 and 0.2 at two
 * providers, which must total 0.3. USD is held at three providers and USDT at two, so totals add
 * across kinds.
 */
export interface SandboxData {
  pik: Omit<PikSimulatorOptions, 'clock'>;
  'asset-accounts': Omit<AssetAccountsSimulatorOptions, 'clock'>;
  merchant: Omit<MerchantSimulatorOptions, 'clock'>;
  wallet: Omit<WalletSimulatorOptions, 'clock'>;
  prepaid: PrepaidSimulatorOptions;
}

/** Demo credentials: public sandbox values, never real ones. */
export const DEMO_WALLET_ID = '1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5';

export const DEMO_CREDENTIALS = {
  pik: { appId: 'demo-pik-app', appSecret: 'demo-pik-secret' },
  assetAccounts: {
    username: 'demo-ops',
    password: 'demo-ops-password',
    otpSecret: 'JBSWY3DPEHPK3PXP',
  },
  merchant: { clientId: 'demo-merchant', clientSecret: 'demo-merchant-secret' },
  wallet: { apiKey: 'demo-wallet-api-key' },
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
    'asset-accounts': {
      customers: [
        {
          ...DEMO_CREDENTIALS.assetAccounts,
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
    },
    merchant: {
      merchants: [
        {
          ...DEMO_CREDENTIALS.merchant,
          entries: [
            // The seed's own example account.
            {
              Balance: '12386.00',
              ReservedAmount: '30.00',
              AvailableBalance: '12356.00',
              Currency: 'USD',
              Name: 'Account (USD)',
              Id: '417971020',
            },
            {
              Balance: '420.40',
              ReservedAmount: '0.00',
              AvailableBalance: '420.40',
              Currency: 'EUR',
              Name: 'Account (EUR)',
              Id: '417971021',
            },
          ],
        },
      ],
    },
    wallet: {
      wallets: [
        {
          walletId: DEMO_WALLET_ID,
          ...DEMO_CREDENTIALS.wallet,
          assets: [
            {
              asset: 'USDT',
              balance: '0.64',
              holdBalance: '0.36',
              lockBalance: '0',
              referralBalance: '0.05',
              depositAddress: {
                TRX: { address: 'TW6fBsVChypHoN3xFXpizHFJNQa7b1wRWc', memo: null },
              },
            },
            {
              asset: 'BTC',
              balance: '0.00012345',
              holdBalance: '0.0001',
              lockBalance: '0.00000001',
              referralBalance: '0.00000002',
              depositAddress: {
                BTC: { address: 'bc1q4curzl6agt0l3zvc3ermrzuesm2f9nevm9rll0', memo: null },
              },
            },
            {
              asset: 'XRP',
              balance: '25',
              holdBalance: '0',
              lockBalance: '0',
              referralBalance: '0',
              depositAddress: {
                XRP: { address: 'rPdvC6ccq8hCdPKSPJkPmyZ4Mi1oG2FFkT', memo: '370145' },
              },
            },
            {
              asset: 'ETH',
              balance: '0',
              holdBalance: '0',
              lockBalance: '0',
              referralBalance: '0',
              depositAddress: {},
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
        id: 'ops',
        kind: 'asset-accounts',
        name: 'Operations asset accounts',
        baseUrl: baseUrl('asset-accounts'),
        credentials: { ...DEMO_CREDENTIALS.assetAccounts },
      },
      {
        id: 'acquirer',
        kind: 'merchant',
        name: 'Card acquirer',
        baseUrl: baseUrl('merchant'),
        credentials: { ...DEMO_CREDENTIALS.merchant },
      },
      {
        id: 'treasury',
        kind: 'wallet',
        name: 'Crypto treasury',
        baseUrl: baseUrl('wallet'),
        walletId: DEMO_WALLET_ID,
        credentials: { ...DEMO_CREDENTIALS.wallet },
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
