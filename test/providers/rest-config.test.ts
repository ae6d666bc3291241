import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/messages.js';

/**
 * A `rest` configuration that is wrong is refused at start with one line per problem, naming the
 * provider and the field, with the exact words a user sees.
 */

const MAPPING = {
  accounts: '/items',
  accountId: '/id',
  currency: '/ccy',
  total: '/t',
  available: '/a',
};
const BASE = {
  id: 'bank',
  kind: 'rest',
  baseUrl: 'http://upstream.test',
  credentials: { key: 'k-1', secret: 'canary-config-secret-5d1' },
  mapping: MAPPING,
};

/** The problems of a configuration with one rest provider: BASE with `change` merged in. */
function problems(change: Record<string, unknown>): string[] {
  try {
    parseConfig(
      { providers: [{ ...BASE, ...change }] },
      { source: 'config.json', env: {}, baseDir: '/' },
    );
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const P = 'providers[0] "bank": ';
const POINTER = 'a JSON Pointer (RFC 6901): "" or "/" and keys, such as "/data/0/balance"';

describe('rest configuration refusals', () => {
  it('accepts the base configuration', () => {
    expect(problems({})).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'an unknown auth type',
      { auth: { type: 'digest' } },
      [
        `${P}auth.type: expected one of none, basic, bearer, apiKey, oauth2ClientCredentials, login`,
      ],
    ],
    [
      'a placeholder naming no credential',
      { auth: { type: 'basic', username: '{credentials.user}', password: '{credentials.secret}' } },
      [
        `${P}auth.username: expected a placeholder among {credentials.key}, {credentials.secret}, received {credentials.user}`,
      ],
    ],
    [
      'a placeholder that is no placeholder',
      { request: { headers: { 'X-Key': 'key {secret}' } } },
      [
        `${P}request.headers.X-Key: expected a placeholder among {credentials.key}, {credentials.secret}, received {secret}`,
      ],
    ],
    [
      '{token} outside auth.send',
      { request: { query: { t: '{token}' } } },
      [
        `${P}request.query.t: expected a placeholder among {credentials.key}, {credentials.secret}, received {token}`,
      ],
    ],
    [
      'a lone brace',
      { auth: { type: 'bearer', token: 'a}b' } },
      [`${P}auth.token: expected "}}" for a literal "}", received a lone "}"`],
    ],
    [
      'a token sent without {token}',
      {
        auth: {
          type: 'login',
          token: '/t',
          lifetime: { seconds: 60 },
          send: { header: 'Authorization', value: 'Bearer' },
        },
      },
      [`${P}auth.send.value: expected a value holding {token}, received none`],
    ],
    [
      'a lifetime of no known form',
      { auth: { type: 'login', token: '/t', lifetime: { minutes: 5 } } },
      [
        `${P}auth.lifetime: expected { "secondsAt": "/pointer" }, { "expiresAt": "/pointer" }, { "jwtExp": true } or { "seconds": N }`,
      ],
    ],
    [
      'a mapping that names no total',
      { mapping: { ...MAPPING, total: undefined } },
      [`${P}mapping.total: is required`],
    ],
    [
      'a path that is not valid syntax',
      { mapping: { ...MAPPING, accounts: 'items' } },
      [`${P}mapping.accounts: expected ${POINTER}`],
    ],
    [
      'a pointer with a bad escape',
      { mapping: { ...MAPPING, accountId: '/a~2b' } },
      [`${P}mapping.accountId: expected ${POINTER}`],
    ],
    [
      'an amount that is neither a pointer nor a field',
      { mapping: { ...MAPPING, total: 'balance' } },
      [
        `${P}mapping.total: expected ${POINTER}, or a field (total, available, PENDING, RESERVED, FROZEN, HOLD, LOCKED, GIFT, REFERRAL)`,
      ],
    ],
    [
      'both accounts and account',
      { mapping: { ...MAPPING, account: '' } },
      [`${P}mapping: expected "accounts" or "account", received both`],
    ],
    [
      'neither accounts nor account',
      { mapping: { ...MAPPING, accounts: undefined } },
      [
        `${P}mapping: expected "accounts" (a pointer to an array of account records) or "account" (a pointer to one), received neither`,
      ],
    ],
    [
      'a sum of a component the mapping lacks',
      { mapping: { ...MAPPING, available: { sum: ['total', 'HOLD'] } } },
      [
        `${P}mapping.available.sum[1]: expected a field the mapping has (total, available), received HOLD`,
      ],
    ],
    [
      'amounts derived from each other',
      { mapping: { ...MAPPING, total: 'available', available: { minus: ['total', '/x'] } } },
      [
        `${P}mapping.total: expected amounts that do not depend on themselves, received total -> available -> total`,
        `${P}mapping.available: expected amounts that do not depend on themselves, received available -> total -> available`,
      ],
    ],
    [
      'a component kind the contract does not have',
      { mapping: { ...MAPPING, components: { BONUS: '/b' } } },
      [`${P}mapping.components.BONUS: unknown key`],
    ],
    [
      'minor units beyond 40 places',
      { mapping: { ...MAPPING, total: { at: '/t', minorUnits: 41 } } },
      [`${P}mapping.total.minorUnits: expected a number of at most 40, received 41`],
    ],
    [
      'relogin without a login',
      { errors: [{ status: 401, means: 'relogin' }] },
      [
        `${P}errors[0].means: expected auth type login or oauth2ClientCredentials for relogin, received none`,
      ],
    ],
    [
      'an error row that matches everything',
      { errors: [{ means: 'UPSTREAM_NOT_FOUND' }] },
      [`${P}errors[0]: expected "status", "code" or both, received neither`],
    ],
    [
      'an error code with nowhere to read it',
      { errors: [{ code: 'E1', means: 'UPSTREAM_NOT_FOUND' }] },
      [
        `${P}errors[0].code: expected envelope.codeAt (or statusAt) to say where the code is, received none`,
      ],
    ],
    [
      'a row that drops a session where there is none',
      { errors: [{ status: 403, means: 'UPSTREAM_AUTH_FAILED', dropsSession: true }] },
      [
        `${P}errors[0].dropsSession: expected auth type login or oauth2ClientCredentials to drop a session, received none`,
      ],
    ],
    [
      'retryAfterAt on another meaning',
      { errors: [{ status: 418, means: 'UPSTREAM_UNAVAILABLE', retryAfterAt: '/wait' }] },
      [
        `${P}errors[0].retryAfterAt: expected only with means UPSTREAM_RATE_LIMITED, received means UPSTREAM_UNAVAILABLE`,
      ],
    ],
    [
      'an envelope status without its success values',
      { envelope: { statusAt: '/status' } },
      [`${P}envelope: expected "statusAt" and "success" together, received only one of them`],
    ],
    [
      'an unknown pagination type',
      { pagination: { type: 'scroll' } },
      [`${P}pagination.type: expected one of none, page, offset, cursor`],
    ],
    [
      'a cursor path that is not a pointer',
      { pagination: { type: 'cursor', nextAt: 'next' } },
      [`${P}pagination.nextAt: expected ${POINTER}`],
    ],
    [
      'a page size without its parameter',
      { pagination: { type: 'page', size: 10 } },
      [`${P}pagination: expected "sizeParam" and "size" together, received only one of them`],
    ],
    [
      'no page at all',
      { pagination: { type: 'cursor', nextAt: '/next', maxPages: 0 } },
      [`${P}pagination.maxPages: expected a number of at least 1, received 0`],
    ],
    [
      'a body on a GET',
      { request: { body: { a: 1 } } },
      [`${P}request.body: expected request.method POST for a body, received method GET`],
    ],
    [
      'currencies where none can go',
      { request: { method: 'POST', currencies: { in: 'header' } } },
      [`${P}request.currencies.in: expected one of body, query, path`],
    ],
    [
      'a one-currency path without {currency}',
      { request: { currencies: { in: 'path', path: '/balance/one' } } },
      [`${P}request.currencies.path: expected a path holding {currency}`],
    ],
    [
      'an OAuth2 token URL that carries a password',
      {
        auth: {
          type: 'oauth2ClientCredentials',
          tokenUrl: 'https://id:pw@auth.example/token',
          clientId: '{credentials.key}',
          clientSecret: '{credentials.secret}',
        },
      },
      [`${P}auth.tokenUrl: must not carry a user name or password; give them under "credentials"`],
    ],
    [
      'a currency from the key of balances that are not keyed',
      { mapping: { ...MAPPING, currency: { key: true } } },
      [
        `${P}mapping.currency: expected mapping.balances keyed by currency ({ "at", "keys": "currency" }) for { "key": true }, received none`,
      ],
    ],
    [
      'an account id from a balance key',
      {
        mapping: {
          ...MAPPING,
          accountId: { key: true },
          balances: { at: '/b', keys: 'currency' },
          currency: { key: true },
        },
      },
      [
        `${P}mapping.accountId: expected a pointer or a constant, received { "key": true } (a balance field only)`,
      ],
    ],
    [
      'a credential name that is not a name, never echoed',
      { credentials: { 'canary pasted-secret': 'x' } },
      [
        `${P}credentials: expected names of letters, digits and "_" (as {credentials.NAME} names them), received 1 other (not shown)`,
      ],
    ],
  ])('%s', (_name, change, expected) => {
    expect(problems(change)).toEqual(expected);
  });

  it('reports every problem of a kind at once (shapes first, then what relates fields), never a secret', () => {
    expect(
      problems({
        auth: { type: 'bearer', token: '{credentials.nope}' },
        pagination: { type: 'scroll' },
        mapping: { ...MAPPING, total: undefined },
      }),
    ).toEqual([
      `${P}pagination.type: expected one of none, page, offset, cursor`,
      `${P}mapping.total: is required`,
    ]);
    const found = problems({
      auth: { type: 'bearer', token: '{credentials.nope}' },
      errors: [{ status: 401, means: 'relogin' }],
    });
    expect(found).toEqual([
      `${P}auth.token: expected a placeholder among {credentials.key}, {credentials.secret}, received {credentials.nope}`,
      `${P}errors[0].means: expected auth type login or oauth2ClientCredentials for relogin, received bearer`,
    ]);
    expect(found.join('\n')).not.toContain('canary');
  });
});
