import { callWithSessionToken } from '../../upstream/token-cache.js';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import { getMerchantSessionToken, MERCHANT_SESSION_PATH } from './auth.js';
import { fetchMerchantBalances, MERCHANT_BALANCES_PATH } from './client.js';
import { type MerchantConfig, merchantConfigSchema } from './config.js';

/** Session life assumed for a rotation before any login said otherwise; PROVIDERS.md's 1800 s. */
const DEFAULT_SESSION_LIFETIME_MS = 1_800_000;

/**
 * Merchant partner account: client id and secret get a session token bound to this process's
 * client IP. Near its expiry the provider rotates the session with `x-refresh-token`, which is
 * adopted only if the token it replaces is still the current one, so late answers never bring an
 * older token back. Every read returns all currencies.
 */
function createMerchantKindAdapter(options: KindAdapterOptions<MerchantConfig>): KindAdapter {
  const { config, tokens, now } = options;
  // A rotated token lives as long as the last login said sessions live.
  let sessionLifetimeMs = DEFAULT_SESSION_LIFETIME_MS;
  return {
    capabilities: { currencyFilter: 'none' },
    fetchAccounts(_query, http) {
      const login = async () => {
        const session = await getMerchantSessionToken(http, config, now);
        sessionLifetimeMs = session.lifetimeMs;
        return session.token;
      };
      return callWithSessionToken(
        tokens,
        login,
        (token) =>
          fetchMerchantBalances(http, config, token, {
            onRefreshToken: (refreshToken) => {
              tokens.rotate(token, { value: refreshToken, expiresAt: now() + sessionLifetimeMs });
            },
            // The next read then starts a session from this process's current address.
            onBoundToOtherAddress: () => tokens.invalidate(token),
          }),
        config.id,
      );
    },
  };
}

/** The `merchant` kind. */
export const merchantKind = defineProviderKind({
  name: 'merchant',
  graphql: { value: 'MERCHANT' },
  defaultName: 'Merchant account',
  configSchema: merchantConfigSchema,
  createAdapter: createMerchantKindAdapter,
  defaultPaths: { session: MERCHANT_SESSION_PATH, balances: MERCHANT_BALANCES_PATH },
});

/** A merchant adapter on its own transport. */
export function createMerchantAdapter(options: AdapterOptions<MerchantConfig>): ProviderAdapter {
  return createProviderAdapter(merchantKind, options);
}
