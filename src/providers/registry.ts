import type { ProviderConfig, ProviderKind } from '../config.js';
import type { AdapterFactory, AdapterOptions, ProviderAdapter } from './adapter.js';
import { createAssetAccountsAdapter } from './asset-accounts/index.js';
import { createMerchantAdapter } from './merchant/index.js';
import { createPikAdapter } from './pik/index.js';
import { createPrepaidAdapter } from './prepaid/index.js';
import { createWalletAdapter } from './wallet/index.js';

type AdapterFactories = { [K in ProviderKind]: AdapterFactory<K> };

/** Every provider kind and the factory of its adapter. */
export const ADAPTER_FACTORIES: AdapterFactories = {
  pik: createPikAdapter,
  'asset-accounts': createAssetAccountsAdapter,
  merchant: createMerchantAdapter,
  prepaid: createPrepaidAdapter,
  wallet: createWalletAdapter,
};

/** The display name a provider gets when its configuration names none. */
export const DEFAULT_PROVIDER_NAMES: Record<ProviderKind, string> = {
  pik: 'PIK Global Account',
  'asset-accounts': 'Asset accounts',
  merchant: 'Merchant account',
  wallet: 'Wallet',
  prepaid: 'Prepaid credit',
};

export function createAdapter(
  options: Omit<AdapterOptions, 'config'> & { config: ProviderConfig },
): ProviderAdapter {
  const factory = ADAPTER_FACTORIES[options.config.kind] as
    | AdapterFactory<ProviderKind>
    | undefined;
  if (factory === undefined) {
    throw new Error(`provider kind "${options.config.kind}" has no adapter yet`);
  }
  // The session layer refuses, for every kind at once, a token longer than the provider allows.
  options.tokens.setMaxTokenBytes(options.config.maxTokenBytes);
  return factory(options as AdapterOptions<ProviderKind>);
}
