import { z } from 'zod';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';

/** A `prepaid` provider in the configuration file. */
export const prepaidConfigSchema = z.strictObject({
  ...commonProviderFields,
  kind: z.literal('prepaid'),
  /** The currency of the credit; the upstream names none. Default CNY. */
  currency: z
    .string()
    .regex(/^[A-Za-z0-9]{2,12}$/, { error: 'expected a currency code such as "CNY"' })
    .default('CNY'),
  credentials: z.strictObject({ devKey: secretReference, devSecret: secretReference }),
  paths: z.strictObject({ balance: upstreamPath.optional() }).default({}),
});

/** A `prepaid` provider's configuration with its secrets resolved. */
export type PrepaidConfig = ResolvedProviderConfig<typeof prepaidConfigSchema>;
/** `{ devKey, devSecret }`, resolved. */
export type PrepaidCredentials = PrepaidConfig['credentials'];
