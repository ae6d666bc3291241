import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import { prepaidAuthorization } from './auth.js';
import { fetchPrepaidBalance } from './client.js';

export {
  createPrepaidSimulator,
  type PrepaidSimulator,
  type PrepaidSimulatorOptions,
} from './sandbox.js';

/**
 * Prepaid service credit: a dev key and secret in a Basic header on every call; no login, so no
 * token to cache. There is one account with one balance in the configured currency.
 */
export function createPrepaidAdapter(options: AdapterOptions<'prepaid'>): ProviderAdapter {
  const { config } = options;
  const transport = createProviderHttp(options);
  const authorization = prepaidAuthorization(config);
  return {
    kind: 'prepaid',
    capabilities: { currencyFilter: 'none' },
    fetchAccounts: (query) => fetchPrepaidBalance(transport.within(query), config, authorization),
  };
}
