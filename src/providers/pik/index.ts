import { callWithSessionToken } from '../../upstream/token-cache.js';
import type { AdapterOptions, ProviderAdapter } from '../adapter.js';
import { createProviderHttp } from '../provider-http.js';
import { loginToPik } from './auth.js';
import { currencyPathSegment, fetchPikBalanceByCurrency, fetchPikBalanceList } from './client.js';

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
      const single = query.currencies?.length === 1 ? query.currencies[0] : undefined;
      // A code bound for the request path is checked before the login, so a bad one costs nothing.
      if (single !== undefined) {
        try {
          currencyPathSegment(config.id, single);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const http = transport.within(query);
      const login = () => loginToPik(http, config, now);
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
