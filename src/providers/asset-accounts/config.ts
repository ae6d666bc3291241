import { z } from 'zod';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';

/** An `asset-accounts` provider in the configuration file. */
export const assetAccountsConfigSchema = z.strictObject({
  ...commonProviderFields,
  kind: z.literal('asset-accounts'),
  credentials: z.strictObject({
    username: secretReference,
    password: secretReference,
    otpSecret: secretReference,
  }),
  /** Page size for the balances list; unset reads the unpaginated list. */
  pageSize: z.number().int().min(1).max(10_000).optional(),
  paths: z
    .strictObject({ login: upstreamPath.optional(), balances: upstreamPath.optional() })
    .default({}),
});

/** An `asset-accounts` provider's configuration with its secrets resolved. */
export type AssetAccountsConfig = ResolvedProviderConfig<typeof assetAccountsConfigSchema>;
/** `{ username, password, otpSecret }`, resolved. */
export type AssetAccountsCredentials = AssetAccountsConfig['credentials'];
