import { z } from 'zod';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';

/** A `merchant` provider in the configuration file. */
export const merchantConfigSchema = z.strictObject({
  ...commonProviderFields,
  kind: z.literal('merchant'),
  credentials: z.strictObject({ clientId: secretReference, clientSecret: secretReference }),
  paths: z
    .strictObject({ session: upstreamPath.optional(), balances: upstreamPath.optional() })
    .default({}),
});

/** A `merchant` provider's configuration with its secrets resolved. */
export type MerchantConfig = ResolvedProviderConfig<typeof merchantConfigSchema>;
/** `{ clientId, clientSecret }`, resolved. */
export type MerchantCredentials = MerchantConfig['credentials'];
