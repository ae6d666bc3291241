import { callWithSessionToken } from '../../upstream/token-cache.js';
import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import { createOtpSource, loginToAssetAccounts } from './auth.js';
import { fetchAssetAccountBalances } from './client.js';

export {
  type AssetAccountsSimulator,
  type AssetAccountsSimulatorOptions,
  createAssetAccountsSimulator,
} from './sandbox.js';

/**
 * Customer asset accounts: username, password and a TOTP log in for a JWT whose `exp` is its
 * life; every balance read carries the token and a fresh TOTP. Reads return every asset.
 */
export function createAssetAccountsAdapter(
  options: AdapterOptions<'asset-accounts'>,
): ProviderAdapter {
  const { config, tokens, now } = options;
  const transport = createProviderHttp(options);
  const otp = createOtpSource(config, now);
  return {
    kind: 'asset-accounts',
    capabilities: { currencyFilter: 'none' },
    fetchAccounts: (query) => {
      // Every call of this read, the login included, ends by the read's deadline.
      const http = transport.within(query);
      return callWithSessionToken(
        tokens,
        () => loginToAssetAccounts(http, config, otp, now),
        (token) => fetchAssetAccountBalances(http, config, token, otp),
        config.id,
      );
    },
  };
}
