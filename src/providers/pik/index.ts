import { callWithSessionToken } from '../../upstream/token-cache.js';
import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import { loginToPik } from './auth.js';
import { fetchPikBalanceByCurrency, fetchPikBalanceList } from './client.js';

export {
  createPikSimulator,
  type PikRecordData,
  type PikSimulator,
  type PikSimulatorOptions,
} from './sandbox.js';

/**
 * PIK Global Account: app id and secret log in for a bearer token; a read that needs exactly one
 * currency uses Get Balance by Currency, anything else the list.
 */
export function createPikAdapter(options: AdapterOptions<'pik'>): ProviderAdapter {
  const { config, tokens, now } = options;
  const transport = createProviderHttp(options);
  return {
    kind: 'pik',
    capabilities: { currencyFilter: 'one' },
    fetchAccounts(query) {
      // Every call of this read, the login included, ends by the read's deadline.
      const http = transport.within(query);
      const login = () => loginToPik(http, config, now);
      const single = query.currencies?.length === 1 ? query.currencies[0] : undefined;
      return callWithSessionToken(
        tokens,
        login,
        (token) =>
          single === undefined
            ? fetchPikBalanceList(http, config, token)
            : fetchPikBalanceByCurrency(http, config, token, single),
        config.id,
      );
    },
  };
}
