import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CURRENCY_CODE_RULE,
  currencyMatcher,
  foldCurrency,
  isCurrencyCode,
} from '../src/currency.js';
import { fetchPikBalanceByCurrency } from '../src/providers/pik/client.js';
import { normalizePikBalanceList } from '../src/providers/pik/normalize.js';
import { UpstreamError } from '../src/upstream/errors.js';
import { createUpstreamHttp } from '../src/upstream/http.js';
import { parseLosslessJson } from '../src/upstream/json.js';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('the currency code rule', () => {
  it('is 1 to 20 ASCII letters, digits, "_" and "-"', () => {
    expect(CURRENCY_CODE_RULE).toBe('1 to 20 ASCII letters, digits, "_" or "-"');
    for (const code of ['USD', 'usd', 'USDT-ERC20', 'x_1', 'A', 'A'.repeat(20)]) {
      expect(isCurrencyCode(code), code).toBe(true);
    }
    for (const code of ['', '.', '..', '%2e%2e', 'a/b', 'US D', ' USD', 'ÜSD', 'A'.repeat(21)]) {
      expect(isCurrencyCode(code), code).toBe(false);
    }
  });

  it('folds ASCII letters only, and matches without regard to their case', () => {
    expect(foldCurrency('usdt-erc20')).toBe('USDT-ERC20');
    // Unicode upper-casing would turn "ß" into "SS" and match a code "ss".
    expect(foldCurrency('ßtraße')).toBe('ßTRAßE');
    const matches = currencyMatcher(['uSd', 'Btc']);
    expect(['USD', 'usd', 'BTC', 'EUR'].map((currency) => matches({ currency }))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(currencyMatcher(['ss'])({ currency: 'ß' })).toBe(false);
  });

  it('is how normalizers print an upstream code', () => {
    const record = (code: string) =>
      `{"balanceNo":"${code}","currencyCode":"${code}","balance":1,"availableBalance":1,"frozenBalance":0,"pendingBalance":0}`;
    const accounts = normalizePikBalanceList(
      parseLosslessJson(`{"code":200,"data":[${record('usdt')},${record('straße')}]}`),
    );
    expect(accounts.map((account) => account.balances[0]?.currency)).toEqual(['USDT', 'STRAßE']);
  });
});

describe('currency arguments', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function post(query: string, variables?: Record<string, unknown>) {
    app.sandbox.clearCalls();
    const response = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      },
    };
  }

  /** Field, what the test calls it, the query, and how many fields refuse (one per provider). */
  const FIELDS: [string, string, (list: string) => string, number][] = [
    ['Query.totals', 'Query.totals', (list) => `{ totals(currencies: ${list}) { complete } }`, 1],
    [
      'Provider.balances',
      'Provider.balances of one provider',
      (list) => `{ provider(id: "pik-main") { balances(currencies: ${list}) { total } } }`,
      1,
    ],
    [
      'Provider.balances',
      'Provider.balances of every provider',
      (list) => `{ providers { balances(currencies: ${list}) { total } } }`,
      6,
    ],
  ];
  const BAD: [string, string][] = [
    ['..', 'received ".."'],
    ['.', 'received "."'],
    ['%2e%2e', 'received "%2e%2e"'],
    ['usd/../list', 'received "usd/../list"'],
    ['', 'received ""'],
    ['US D', 'received "US D"'],
    ['ÜSD', 'received "ÜSD"'],
    ['A'.repeat(21), 'received a string of 21 characters'],
  ];

  for (const [field, name, query, count] of FIELDS) {
    for (const [code, received] of BAD) {
      it(`${name} refuses ${JSON.stringify(code.slice(0, 12))} with HTTP 400, before any upstream call`, async () => {
        const { status, body } = await post(query(JSON.stringify(['usd', code])));
        expect(status).toBe(400);
        expect(body.errors).toEqual(
          Array.from({ length: count }, () =>
            expect.objectContaining({
              message: `${field}(currencies:) item 1: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", ${received}`,
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          ),
        );
        expect(app.sandbox.calls()).toEqual([]);
      });
    }
  }

  it('refuses a code given as a variable the same way', async () => {
    const { status, body } = await post(
      'query ($c: [String!]) { provider(id: "pik-main") { balances(currencies: $c) { total } } }',
      { c: ['..'] },
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toBe(
      'Provider.balances(currencies:) item 0: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", received ".."',
    );
    expect(app.sandbox.calls()).toEqual([]);
  });

  it('refuses a bad code in Account.balances too (its account read has been made by then)', async () => {
    const { status, body } = await post(
      '{ provider(id: "pik-main") { accounts { balances(currencies: [".."]) { total } } } }',
    );
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message:
        'Account.balances(currencies:) item 0: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", received ".."',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('reads nothing upstream for the rest of a request that has a bad code', async () => {
    const { status, body } = await post(
      '{ providers { id accounts { id } } totals(currencies: [".."]) { complete } }',
    );
    expect(status).toBe(400);
    // The refusal, and each account read of the request refused with it.
    expect(body.errors?.map((error) => error.extensions?.code)).toEqual(
      Array.from({ length: 7 }, () => 'BAD_USER_INPUT'),
    );
    expect(body.errors?.map((error) => error.message)).toContain(
      'Query.totals(currencies:) item 0: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", received ".."',
    );
    expect(app.sandbox.calls()).toEqual([]);
  });

  it('still reads a good code, in any case, with one call by currency at pik', async () => {
    const { status, body } = await post(
      '{ provider(id: "pik-main") { balances(currencies: ["uSd"]) { currency total } } }',
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      data: { provider: { balances: [{ currency: 'USD', total: '1500.25' }] } },
    });
    expect(app.sandbox.calls('pik').map((call) => call.path)).toContain('/api/v1/balance/USD');
  });

  it('pik: the adapter refuses a code that is no currency code before logging in', async () => {
    const pik = app.runtime.tenants.get('default')?.byId.get('pik-main');
    if (pik === undefined) throw new Error('demo configuration changed');
    for (const code of ['..', '.', '%2e%2e', 'usd/x']) {
      app.sandbox.clearCalls();
      const refused = await pik.adapter
        .fetchAccounts({ currencies: [code] })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(Error);
      expect(refused).not.toBeInstanceOf(UpstreamError);
      expect((refused as Error).message).toBe(
        `pik-main: a currency code in a request path must be ${CURRENCY_CODE_RULE}`,
      );
      expect(app.sandbox.calls()).toEqual([]);
    }
  });

  it('pik: the client refuses such a code before any call, and encodes the path segment', async () => {
    const dispatcher = new Agent();
    try {
      const pik = app.config.tenants[0]?.providers.find((provider) => provider.id === 'pik-main');
      if (pik?.kind !== 'pik') throw new Error('demo configuration changed');
      const http = createUpstreamHttp({
        providerId: pik.id,
        baseUrl: pik.baseUrl,
        dispatcher,
        timeoutMs: 2000,
      });
      for (const code of ['..', '.', '%2E%2e', '.%2e', 'a/b']) {
        app.sandbox.clearCalls();
        await expect(fetchPikBalanceByCurrency(http, pik, 'token', code)).rejects.toThrow(
          'pik-main: a currency code in a request path must be',
        );
        expect(app.sandbox.calls()).toEqual([]);
      }
    } finally {
      await dispatcher.close();
    }
  });
});
