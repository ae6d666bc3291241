import type { PrepaidSimulatorOptions } from './sandbox.js';

/** The demo merchants' dev keys and secrets: public sandbox values, never real ones. */
export const PREPAID_SMS_DEMO_CREDENTIALS = {
  devKey: 'demo-sms',
  devSecret: 'demo-sms-secret',
} as const;
export const PREPAID_VOICE_DEMO_CREDENTIALS = {
  devKey: 'demo-voice',
  devSecret: 'demo-voice-secret',
} as const;

/** What the prepaid simulator is started with, but the sandbox's clock. */
export type PrepaidSandboxData = PrepaidSimulatorOptions;

/** The prepaid demo data: SMS credit in CNY, and voice credit of HKD 0.2. */
export function createPrepaidDemoData(): PrepaidSandboxData {
  return {
    merchants: [
      { ...PREPAID_SMS_DEMO_CREDENTIALS, balance10000: '123456', giftBalance10000: '20000' },
      // 0.2 HKD: with the 0.1 HKD at PIK, totals must say exactly 0.3.
      { ...PREPAID_VOICE_DEMO_CREDENTIALS, balance10000: '2000', giftBalance10000: '0' },
    ],
  };
}

/** The demo tenant's prepaid providers, at the simulator at `baseUrl`. */
export function prepaidDemoProviders(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      id: 'sms',
      kind: 'prepaid',
      name: 'SMS credit',
      baseUrl,
      currency: 'CNY',
      credentials: { ...PREPAID_SMS_DEMO_CREDENTIALS },
    },
    {
      id: 'voice',
      kind: 'prepaid',
      name: 'Voice credit',
      baseUrl,
      currency: 'HKD',
      credentials: { ...PREPAID_VOICE_DEMO_CREDENTIALS },
    },
  ];
}
