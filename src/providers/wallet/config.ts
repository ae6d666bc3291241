import { z } from 'zod';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';

/** A `wallet` provider in the configuration file. */
export const walletConfigSchema = z.strictObject({
  ...commonProviderFields,
  kind: z.literal('wallet'),
  walletId: z.string().min(1),
  credentials: z.union(
    [
      z.strictObject({ apiKey: secretReference }),
      z.strictObject({ email: secretReference, password: secretReference }),
    ],
    { error: 'expected either { "apiKey" } or { "email", "password" }' },
  ),
  /** The API key's header; PROVIDERS.md assumes X-Api-Key. */
  apiKeyHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .optional(),
  paths: z
    .strictObject({ login: upstreamPath.optional(), balances: upstreamPath.optional() })
    .default({}),
});

/** A `wallet` provider's configuration with its secrets resolved. */
export type WalletConfig = ResolvedProviderConfig<typeof walletConfigSchema>;
/** `{ apiKey }` or `{ email, password }`, resolved. */
export type WalletConfigCredentials = WalletConfig['credentials'];
