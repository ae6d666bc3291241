import { callWithSessionToken } from '../../upstream/token-cache.js';
import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import {
  loginToWallet,
  walletApiKeyHeaders,
  walletBearerHeaders,
  walletCredentials,
} from './auth.js';
import { fetchWalletBalances } from './client.js';

export {
  createWalletSimulator,
  type WalletAccountData,
  type WalletAssetData,
  type WalletSimulator,
  type WalletSimulatorOptions,
} from './sandbox.js';

/**
 * Crypto wallet balances: an API key header on every call, or an email and password that log in
 * for a bearer token. One read asks for any set of assets of the configured wallet at once.
 */
export function createWalletAdapter(options: AdapterOptions<'wallet'>): ProviderAdapter {
  const { config, tokens, now } = options;
  const transport = createProviderHttp(options);
  const credentials = walletCredentials(config);

  if (credentials.mode === 'api-key') {
    // No login, so no token to cache: the key rides on every call.
    const auth = {
      headers: walletApiKeyHeaders(config, credentials.apiKey),
      mode: 'api-key' as const,
    };
    return {
      kind: 'wallet',
      capabilities: { currencyFilter: 'many' },
      fetchAccounts: (query) =>
        fetchWalletBalances(transport.within(query), config, auth, query.currencies),
    };
  }

  return {
    kind: 'wallet',
    capabilities: { currencyFilter: 'many' },
    fetchAccounts: (query) => {
      // Every call of this read, the login included, ends by the read's deadline.
      const http = transport.within(query);
      return callWithSessionToken(
        tokens,
        () => loginToWallet(http, config, credentials, now),
        (token) =>
          fetchWalletBalances(
            http,
            config,
            { headers: walletBearerHeaders(token), mode: 'session' },
            query.currencies,
          ),
        config.id,
      );
    },
  };
}
