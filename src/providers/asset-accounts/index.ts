import { callWithSessionToken } from '../../upstream/token-cache.js';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import { ASSET_ACCOUNTS_LOGIN_PATH, createOtpSource, loginToAssetAccounts } from './auth.js';
import { ASSET_ACCOUNTS_BALANCES_PATH, fetchAssetAccountBalances } from './client.js';
import { type AssetAccountsConfig, assetAccountsConfigSchema } from './config.js';

/**
 * Customer asset accounts: username, password and a TOTP log in for a JWT whose `exp` is its
 * life; every balance read carries the token and a fresh TOTP. Reads return every asset.
 */
function createAssetAccountsKindAdapter(
  options: KindAdapterOptions<AssetAccountsConfig>,
): KindAdapter {
  const { config, tokens, now } = options;
  const otp = createOtpSource(config, now);
  return {
    capabilities: { currencyFilter: 'none' },
    fetchAccounts: (_query, http) =>
      callWithSessionToken(
        tokens,
        () => loginToAssetAccounts(http, config, otp, now),
        (token) => fetchAssetAccountBalances(http, config, token, otp),
        config.id,
      ),
  };
}

/** The `asset-accounts` kind. */
export const assetAccountsKind = defineProviderKind({
  name: 'asset-accounts',
  graphql: { value: 'ASSET_ACCOUNTS' },
  defaultName: 'Asset accounts',
  configSchema: assetAccountsConfigSchema,
  createAdapter: createAssetAccountsKindAdapter,
  defaultPaths: { login: ASSET_ACCOUNTS_LOGIN_PATH, balances: ASSET_ACCOUNTS_BALANCES_PATH },
});

/** An asset-accounts adapter on its own transport. */
export function createAssetAccountsAdapter(
  options: AdapterOptions<AssetAccountsConfig>,
): ProviderAdapter {
  return createProviderAdapter(assetAccountsKind, options);
}
