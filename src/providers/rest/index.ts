import { callWithSessionToken } from '../../upstream/token-cache.js';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from '../adapter.js';
import { createProviderAdapter, defineProviderKind } from '../provider-kind.js';
import { createRestAuthorizer } from './auth.js';
import { createRestBalanceReader } from './client.js';
import {
  REST_DEFAULT_BALANCES_PATH,
  REST_DEFAULT_LOGIN_PATH,
  type RestConfig,
  restConfigSchema,
} from './config.js';
import { createRestAnswerReader, RestSessionDropped } from './errors.js';
import { compileRestMapping, type Redactor } from './normalize.js';

/**
 * Any REST balance API whose login, request, pagination, errors and field mapping the
 * configuration describes (README "The rest kind"). The configuration is compiled once here;
 * each read is then the configured auth, the request page by page, and the mapping.
 */
function createRestKindAdapter(options: KindAdapterOptions<RestConfig>): KindAdapter {
  const { config, tokens, now } = options;
  const settle = createRestAnswerReader(config);
  const mapping = compileRestMapping(config.mapping);
  const balances = createRestBalanceReader(config, settle, mapping);
  const auth = createRestAuthorizer({ config, settle, now });
  const secrets = Object.values(config.credentials).filter(
    (value): value is string => typeof value === 'string' && value !== '',
  );
  // A read by path asks for one currency; a list or body parameter for any set of them.
  const wanted = config.request.currencies;
  const capabilities: KindAdapter['capabilities'] = {
    currencyFilter: wanted === undefined ? 'none' : wanted.in === 'path' ? 'one' : 'many',
  };

  if (auth.kind === 'static') {
    const redact = createRedactor(secrets);
    return {
      capabilities,
      fetchAccounts: async (query, http) =>
        (await balances.read(http, auth.call, query.currencies, redact)).accounts,
    };
  }
  const { rotateHeader } = auth;
  return {
    capabilities,
    fetchAccounts: (query, http) =>
      callWithSessionToken(
        tokens,
        () => auth.login(http, { deadlineAt: query.deadlineAt, signal: query.signal }),
        async (token) => {
          let read: Awaited<ReturnType<typeof balances.read>>;
          try {
            read = await balances.read(
              http,
              auth.withToken(token),
              query.currencies,
              createRedactor([...secrets, token]),
            );
          } catch (error) {
            // A row said this session is of no further use: the next read logs in again.
            if (error instanceof RestSessionDropped) tokens.invalidate(token);
            throw error;
          }
          const rotated =
            rotateHeader === undefined
              ? undefined
              : read.response.headers[rotateHeader.toLowerCase()];
          const next = Array.isArray(rotated) ? rotated[0] : rotated;
          if (typeof next === 'string' && next !== '') {
            tokens.rotate(token, { value: next, expiresAt: now() + auth.lifetimeMs() });
          }
          return read.accounts;
        },
        config.id,
      ),
  };
}

/** Secrets at least this long are redacted where a string holds them; shorter ones where a string is one. */
const REDACT_WITHIN_LENGTH = 8;

/**
 * `Balance.raw` never shows a secret of the configuration or the session token: a string that is
 * one, or holds one of at least 8 characters (a short one, such as a one-letter key id, would
 * blank ordinary words), becomes "[redacted]". A record with none is returned as it is.
 */
function createRedactor(secrets: readonly string[]): Redactor {
  if (secrets.length === 0) return (raw) => raw;
  const exact = new Set(secrets);
  const within = secrets.filter((secret) => secret.length >= REDACT_WITHIN_LENGTH);
  const redact = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return exact.has(value) || within.some((secret) => value.includes(secret))
        ? '[redacted]'
        : value;
    }
    if (Array.isArray(value)) {
      const items = value.map(redact);
      return items.some((item, index) => item !== value[index]) ? items : value;
    }
    if (
      typeof value === 'object' &&
      value !== null &&
      Object.getPrototypeOf(value) === Object.prototype
    ) {
      let changed = false;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = redact(item);
        if (out[key] !== item) changed = true;
      }
      return changed ? out : value;
    }
    return value;
  };
  return redact;
}

/** The `rest` kind. */
export const restKind = defineProviderKind({
  name: 'rest',
  graphql: {
    value: 'REST',
    description: 'Any REST balance API described by its configuration (README "The rest kind").',
  },
  defaultName: 'REST provider',
  configSchema: restConfigSchema,
  createAdapter: createRestKindAdapter,
  defaultPaths: { balances: REST_DEFAULT_BALANCES_PATH, login: REST_DEFAULT_LOGIN_PATH },
});

/** A rest adapter on its own transport. */
export function createRestAdapter(options: AdapterOptions<RestConfig>): ProviderAdapter {
  return createProviderAdapter(restKind, options);
}
