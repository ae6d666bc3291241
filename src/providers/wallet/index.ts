import { callWithSessionToken } from '../../upstream/token-cache.js';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import {
  loginToWallet,
  WALLET_LOGIN_PATH,
  walletApiKeyHeaders,
  walletBearerHeaders,
  walletCredentials,
} from './auth.js';
import { fetchWalletBalances, WALLET_BALANCES_PATH } from './client.js';
import { type WalletConfig, walletConfigSchema } from './config.js';

/**
 * Crypto wallet balances: an API key header on every call, or an email and password that log in
 * for a bearer token. One read asks for any set of assets of the configured wallet at once.
 */
function createWalletKindAdapter(options: KindAdapterOptions<WalletConfig>): KindAdapter {
  const { config, tokens, now } = options;
  const credentials = walletCredentials(config);

  if (credentials.mode === 'api-key') {
    // No login, so no token to cache: the key rides on every call.
    const auth = {
      headers: walletApiKeyHeaders(config, credentials.apiKey),
      mode: 'api-key' as const,
    };
    return {
      capabilities: { currencyFilter: 'many' },
      fetchAccounts: (query, http) => fetchWalletBalances(http, config, auth, query.currencies),
    };
  }

  return {
    capabilities: { currencyFilter: 'many' },
    fetchAccounts: (query, http) =>
      callWithSessionToken(
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
      ),
  };
}

/** The `wallet` kind. */
export const walletKind = defineProviderKind({
  name: 'wallet',
  graphql: { value: 'WALLET' },
  defaultName: 'Wallet',
  configSchema: walletConfigSchema,
  createAdapter: createWalletKindAdapter,
  defaultPaths: { login: WALLET_LOGIN_PATH, balances: WALLET_BALANCES_PATH },
});

/** A wallet adapter on its own transport. */
export function createWalletAdapter(options: AdapterOptions<WalletConfig>): ProviderAdapter {
  return createProviderAdapter(walletKind, options);
}
