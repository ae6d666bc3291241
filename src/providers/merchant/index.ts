import { callWithSessionToken } from '../../upstream/token-cache.js';
import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import { getMerchantSessionToken } from './auth.js';
import { fetchMerchantBalances } from './client.js';

export {
  createMerchantSimulator,
  type MerchantBalanceEntry,
  type MerchantBalanceFailure,
  type MerchantIssuedSession,
  type MerchantPartner,
  type MerchantSimulator,
  type MerchantSimulatorOptions,
} from './sandbox.js';

/** Session life assumed for a rotation before any login said otherwise; PROVIDERS.md's 1800 s. */
const DEFAULT_SESSION_LIFETIME_MS = 1_800_000;

/**
 * Merchant partner account: client id and secret get a session token bound to this process's
 * client IP. Near its expiry the provider rotates the session with `x-refresh-token`, which is
 * adopted only if the token it replaces is still the current one, so late answers never bring an
 * older token back. Every read returns all currencies.
 */
export function createMerchantAdapter(options: AdapterOptions<'merchant'>): ProviderAdapter {
  const { config, tokens, now } = options;
  const transport = createProviderHttp(options);
  // A rotated token lives as long as the last login said sessions live.
  let sessionLifetimeMs = DEFAULT_SESSION_LIFETIME_MS;
  return {
    kind: 'merchant',
    capabilities: { currencyFilter: 'none' },
    fetchAccounts(query) {
      // Every call of this read, the login included, ends by the read's deadline.
      const http = transport.within(query);
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
