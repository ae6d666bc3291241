import { z } from 'zod';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';

/** A `pik` provider in the configuration file. */
export const pikConfigSchema = z.strictObject({
  ...commonProviderFields,
  kind: z.literal('pik'),
  credentials: z.strictObject({ appId: secretReference, appSecret: secretReference }),
  paths: z
    .strictObject({
      login: upstreamPath.optional(),
      balanceList: upstreamPath.optional(),
      /** Contains `{currencyCode}`. */
      balanceByCurrency: upstreamPath
        .refine((path) => path.includes('{currencyCode}'), {
          error: 'must contain {currencyCode}',
        })
        .optional(),
    })
    .default({}),
});

/** A `pik` provider's configuration with its secrets resolved. */
export type PikConfig = ResolvedProviderConfig<typeof pikConfigSchema>;
/** `{ appId, appSecret }`, resolved. */
export type PikCredentials = PikConfig['credentials'];
