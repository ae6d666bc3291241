import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import { prepaidAuthorization } from './auth.js';
import { fetchPrepaidBalance, PREPAID_BALANCE_PATH } from './client.js';
import { type PrepaidConfig, prepaidConfigSchema } from './config.js';

/**
 * Prepaid service credit: a dev key and secret in a Basic header on every call; no login, so no
 * token to cache. There is one account with one balance in the configured currency.
 */
function createPrepaidKindAdapter(options: KindAdapterOptions<PrepaidConfig>): KindAdapter {
  const { config } = options;
  const authorization = prepaidAuthorization(config);
  return {
    capabilities: { currencyFilter: 'none' },
    fetchAccounts: (_query, http) => fetchPrepaidBalance(http, config, authorization),
  };
}

/** The `prepaid` kind. */
export const prepaidKind = defineProviderKind({
  name: 'prepaid',
  graphql: { value: 'PREPAID' },
  defaultName: 'Prepaid credit',
  configSchema: prepaidConfigSchema,
  createAdapter: createPrepaidKindAdapter,
  defaultPaths: { balance: PREPAID_BALANCE_PATH },
});

/** A prepaid adapter on its own transport. */
export function createPrepaidAdapter(options: AdapterOptions<PrepaidConfig>): ProviderAdapter {
  return createProviderAdapter(prepaidKind, options);
}
