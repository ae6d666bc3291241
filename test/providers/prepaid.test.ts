import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import { prepaidAuthorization } from '../../src/providers/prepaid/auth.js';
import { fetchPrepaidBalance } from '../../src/providers/prepaid/client.js';
import { createPrepaidAdapter } from '../../src/providers/prepaid/index.js';
import { normalizePrepaidBalance } from '../../src/providers/prepaid/normalize.js';
import { createPrepaidSimulator } from '../../src/providers/prepaid/sandbox.js';
import { createMovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { TokenCacheByTenantAndProvider } from '../../src/upstream/token-cache.js';
import { standalone } from '../helpers/adapter.js';
import { loadFixture, plainAccounts } from '../helpers/fixtures.js';
import {
  type CannedAnswer,
  type CannedUpstream,
  type ExpectedFailure,
  mappedFailure,
  providerConfig,
  startCannedUpstream,
} from './canned-upstream.js';

const SECRET = 'canary-prepaid-secret-91c2';

describe('prepaid normalization (fixtures)', () => {
  for (const name of [
    'seed-example',
    'floats-disagree',
    'float-fallback',
    'total-from-integer-parts',
  ]) {
    it(`normalizes ${name}`, () => {
      const fixture = loadFixture('prepaid', name);
      const currency = String(fixture.options?.currency);
      expect(plainAccounts(normalizePrepaidBalance(fixture.raw, currency))).toEqual(
        fixture.expected,
      );
    });
  }

  it('rejects a fractional *10000 field and a body with no total', () => {
    expect(() =>
      normalizePrepaidBalance(parseLosslessJson('{"total_balance10000": 1.5}'), 'CNY'),
    ).toThrow('body.total_balance10000: expected an integer, received a fraction');
    expect(() => normalizePrepaidBalance(parseLosslessJson('{"balance10000": 1}'), 'CNY')).toThrow(
      'body.total_balance10000: expected an amount, received nothing',
    );
  });

  it('refuses a number outside the bounds of an amount by its path, scaled integers included', () => {
    const normalize = (text: string) => () =>
      normalizePrepaidBalance(parseLosslessJson(text), 'CNY');
    expect(normalize('{"balance10000": 1e9000000, "gift_balance10000": 0}')).toThrow(
      'body.balance10000: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
    // 10^41 units of 1/10000 would be 10^37, within the bounds, but the integer itself is not.
    expect(normalize(`{"total_balance10000": 1${'0'.repeat(41)}}`)).toThrow(
      'body.total_balance10000: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
    expect(normalize('{"total_balance": 1e9000000}')).toThrow(
      'body.total_balance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});

describe('prepaid against its simulator', () => {
  const clock = createMovableClock();
  const simulator = createPrepaidSimulator({
    merchants: [
      {
        devKey: 'jiguangdev',
        devSecret: 'dev_secret',
        balance10000: '123456',
        giftBalance10000: '20000',
      },
      { devKey: 'canary', devSecret: SECRET, balance10000: '1', giftBalance10000: '0' },
    ],
  });
  let server: SandboxServer;
  const dispatcher = new Agent();

  beforeAll(async () => {
    server = await startSandboxServer({ simulators: [simulator], clock });
  });
  afterAll(async () => {
    await dispatcher.close();
    await server.close();
  });

  function adapterFor(devKey: string, devSecret: string) {
    const config = parseConfig(
      {
        providers: [
          {
            id: 'sms',
            kind: 'prepaid',
            baseUrl: server.baseUrl('prepaid'),
            credentials: { devKey, devSecret },
          },
        ],
      },
      { source: 'test', env: {}, baseDir: '.' },
    ).tenants[0]?.providers[0];
    if (config?.kind !== 'prepaid') throw new Error('unreachable');
    return standalone(
      createPrepaidAdapter({
        tenantId: 't',
        config,
        dispatcher,
        tokens: new TokenCacheByTenantAndProvider().slot('t', 'sms'),
        now: clock.now,
      }),
    );
  }

  it("sends the seed's exact Basic header: base64(dev_key:dev_secret)", async () => {
    server.clearCalls();
    const accounts = await adapterFor('jiguangdev', 'dev_secret').fetchAccounts({
      currencies: null,
    });
    expect(accounts[0]?.balances[0]?.total.toString()).toBe('14.3456');
    const [call] = server.calls('prepaid');
    // The seed's example: "Authorization: Basic amlndWFuZ2RldjpkZXZfc2VjcmV0".
    expect(call?.headers.authorization).toBe('Basic amlndWFuZ2RldjpkZXZfc2VjcmV0');
    expect(call?.method).toBe('GET');
    expect(call?.path).toBe('/v1/balance');
  });

  it('maps 2001/401 and 2002/401 to UPSTREAM_AUTH_FAILED and 2002/403 to UPSTREAM_NOT_FOUND, without the secret', async () => {
    const wrong = await adapterFor('canary', 'not-the-secret')
      .fetchAccounts({ currencies: null })
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(UpstreamError);
    expect(wrong).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      retryable: false,
      providerId: 'sms',
    });

    simulator.setMerchantState('canary', 'disabled');
    const disabled = await adapterFor('canary', SECRET)
      .fetchAccounts({ currencies: null })
      .catch((e: unknown) => e);
    expect(disabled).toMatchObject({ code: 'UPSTREAM_AUTH_FAILED' });
    expect((disabled as Error).message).toContain('expired or was disabled');
    expect((disabled as Error).message).not.toContain(SECRET);

    simulator.setMerchantState('canary', 'deleted');
    const deleted = await adapterFor('canary', SECRET)
      .fetchAccounts({ currencies: null })
      .catch((e: unknown) => e);
    expect(deleted).toMatchObject({ code: 'UPSTREAM_NOT_FOUND', status: 403 });
    expect((deleted as Error).message).not.toContain(SECRET);
    simulator.setMerchantState('canary', 'active');
  });
});

describe('prepaid error table: each answer maps as PROVIDERS.md says', () => {
  let upstream: CannedUpstream;
  let config: ProviderConfigOf<'prepaid'>;
  beforeAll(async () => {
    upstream = await startCannedUpstream('sms');
    config = providerConfig('prepaid', {
      id: 'sms',
      baseUrl: upstream.baseUrl,
      credentials: { devKey: 'key', devSecret: SECRET },
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  const cases: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: '2001/401 rejects the key',
      answer: { status: 401, body: '{"code":2001,"message":"authentication failed"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'sms: the dev key or secret was rejected',
      },
    },
    {
      name: '2002/401 is a key expired or disabled',
      answer: { status: 401, body: '{"code":2002,"message":"token expired"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'sms: the dev key has expired or was disabled',
      },
    },
    {
      name: 'HTTP 401 without a body code rejects the key',
      answer: { status: 401, body: 'Unauthorized' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'sms: the dev key or secret was rejected',
      },
    },
    {
      name: '2002/403 is a deleted merchant: not found',
      answer: { status: 403, body: '{"code":2002,"message":"merchant deleted"}' },
      expected: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 403,
        message: 'sms: the merchant account has been deleted',
      },
    },
    {
      name: 'another 403 refuses access',
      answer: { status: 403, body: '{"code":2001}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 403,
        message: 'sms: the provider refused access (HTTP 403)',
      },
    },
    {
      name: '1000/500 is unavailable: retry later',
      answer: { status: 500, body: '{"code":1000,"message":"internal error"}' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 500,
        message: 'sms: the balance failed upstream (HTTP 500)',
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{}', headers: { 'retry-after': '1' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 1,
        message: 'sms: the balance was rate limited (HTTP 429); retry after 1 s',
      },
    },
    {
      name: 'HTTP 404 is an answer the contract does not define',
      answer: { status: 404, body: '{"code":2002}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 404,
        message:
          "sms: the balance answered HTTP 404, which the provider's contract does not define",
      },
    },
    {
      name: 'HTTP 200 with no total breaks the contract',
      answer: { status: 200, body: '{"code":2002}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "sms: the balance broke the provider's contract: body.total_balance10000: expected an amount, received nothing (nor total_balance, nor both parts)",
      },
    },
  ];

  for (const { name, answer, expected } of cases) {
    it(name, async () => {
      upstream.answer(answer);
      const read = fetchPrepaidBalance(upstream.http, config, prepaidAuthorization(config));
      expect(await mappedFailure(read)).toEqual(expected);
    });
  }

  it('HTTP 200 is the answer', async () => {
    upstream.answer({
      status: 200,
      body: '{"total_balance10000":143456,"gift_balance10000":20000}',
    });
    const accounts = await fetchPrepaidBalance(upstream.http, config, prepaidAuthorization(config));
    expect(accounts[0]?.balances[0]?.total.toString()).toBe('14.3456');
  });
});
