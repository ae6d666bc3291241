import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createPrepaidAdapter, createPrepaidSimulator } from '../../src/providers/prepaid/index.js';
import { normalizePrepaidBalance } from '../../src/providers/prepaid/normalize.js';
import { createMovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { TokenCacheByTenantAndProvider } from '../../src/upstream/token-cache.js';
import { loadFixture, plainAccounts } from '../helpers/fixtures.js';

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
    return createPrepaidAdapter({
      tenantId: 't',
      config,
      dispatcher,
      tokens: new TokenCacheByTenantAndProvider().slot('t', 'sms'),
      now: clock.now,
    });
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
