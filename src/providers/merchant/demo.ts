import type { MerchantSimulatorOptions } from './sandbox.js';

/** The demo merchant's client id and secret: public sandbox values, never real ones. */
export const MERCHANT_DEMO_CREDENTIALS = {
  clientId: 'demo-merchant',
  clientSecret: 'demo-merchant-secret',
} as const;

/** What the merchant simulator is started with, but the sandbox's clock. */
export type MerchantSandboxData = Omit<MerchantSimulatorOptions, 'clock'>;

/** The merchant's demo data: the seed's example account and a EUR one. */
export function createMerchantDemoData(): MerchantSandboxData {
  return {
    merchants: [
      {
        ...MERCHANT_DEMO_CREDENTIALS,
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
  };
}

/** The demo tenant's merchant providers, at the simulator at `baseUrl`. */
export function merchantDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      id: 'acquirer',
      kind: 'merchant',
      name: 'Card acquirer',
      baseUrl,
      credentials: { ...MERCHANT_DEMO_CREDENTIALS },
    },
  ];
}
