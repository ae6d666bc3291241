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
  const http = createProviderHttp(options);
  const otp = createOtpSource(config, now);
  const login = () => loginToAssetAccounts(http, config, otp, now);
  return {
    kind: 'asset-accounts',
    capabilities: { currencyFilter: 'none' },
    fetchAccounts: () =>
      callWithSessionToken(
        tokens,
        login,
        (token) => fetchAssetAccountBalances(http, config, token, otp),
        config.id,
      ),
  };
}
