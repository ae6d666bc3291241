import { callWithSessionToken } from '../../upstream/token-cache.js';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import { loginToPik, PIK_LOGIN_PATH } from './auth.js';
import {
  currencyPathSegment,
  fetchPikBalanceByCurrency,
  fetchPikBalanceList,
  PIK_BALANCE_BY_CURRENCY_PATH,
  PIK_BALANCE_LIST_PATH,
} from './client.js';
import { type PikConfig, pikConfigSchema } from './config.js';

/**
 * PIK Global Account: app id and secret log in for a bearer token; a read that needs exactly one
 * currency uses Get Balance by Currency, anything else the list.
 */
function createPikKindAdapter(options: KindAdapterOptions<PikConfig>): KindAdapter {
  const { config, tokens, now } = options;
  return {
    capabilities: { currencyFilter: 'one' },
    fetchAccounts(query, http) {
      const single = query.currencies?.length === 1 ? query.currencies[0] : undefined;
      // A code bound for the request path is checked before the login, so a bad one costs nothing.
      if (single !== undefined) {
        try {
          currencyPathSegment(config.id, single);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      return callWithSessionToken(
        tokens,
        () => loginToPik(http, config, now),
        (token) =>
          single === undefined
            ? fetchPikBalanceList(http, config, token)
            : fetchPikBalanceByCurrency(http, config, token, single),
        config.id,
      );
    },
  };
}

/** The `pik` kind. */
export const pikKind = defineProviderKind({
  name: 'pik',
  graphql: { value: 'PIK' },
  defaultName: 'PIK Global Account',
  configSchema: pikConfigSchema,
  createAdapter: createPikKindAdapter,
  defaultPaths: {
    login: PIK_LOGIN_PATH,
    balanceList: PIK_BALANCE_LIST_PATH,
    balanceByCurrency: PIK_BALANCE_BY_CURRENCY_PATH,
  },
});

/** A PIK adapter on its own transport. */
export function createPikAdapter(options: AdapterOptions<PikConfig>): ProviderAdapter {
  return createProviderAdapter(pikKind, options);
}
