import type { WalletSimulatorOptions } from './sandbox.js';

/** The demo wallet and its API key: public sandbox values, never real ones. */
export const DEMO_WALLET_ID = '1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5';
export const WALLET_DEMO_CREDENTIALS = { apiKey: 'demo-wallet-api-key' } as const;

/** What the wallet simulator is started with, but the sandbox's clock. */
export type WalletSandboxData = Omit<WalletSimulatorOptions, 'clock'>;

/** The wallet's demo data: assets with hold, lock and referral parts and deposit addresses. */
export function createWalletDemoData(): WalletSandboxData {
  return {
    wallets: [
      {
        walletId: DEMO_WALLET_ID,
        ...WALLET_DEMO_CREDENTIALS,
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
  };
}

/** The demo tenant's wallet providers, at the simulator at `baseUrl`. */
export function walletDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      id: 'treasury',
      kind: 'wallet',
      name: 'Crypto treasury',
      baseUrl,
      walletId: DEMO_WALLET_ID,
      credentials: { ...WALLET_DEMO_CREDENTIALS },
    },
  ];
}
