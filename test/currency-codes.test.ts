import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CURRENCY_CODE_RULE,
  currencyMatcher,
  foldCurrency,
  foldedCurrencyMatcher,
  isCurrencyCode,
} from '../src/currency.js';
import { fetchPikBalanceByCurrency } from '../src/providers/pik/client.js';
import { normalizePikBalanceList } from '../src/providers/pik/normalize.js';
import { UpstreamError } from '../src/upstream/errors.js';
import { createUpstreamHttp } from '../src/upstream/http.js';
import { parseLosslessJson } from '../src/upstream/json.js';
import { standalone } from './helpers/adapter.js';
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

  it('has no character that a path segment encodes or reads as a dot', () => {
    // So a code put in a request path (pik) is one segment as it is, never "." or "..".
    for (let point = 0; point < 128; point += 1) {
      const character = String.fromCharCode(point);
      const allowed = /[A-Za-z0-9_-]/.test(character);
      expect(isCurrencyCode(character), JSON.stringify(character)).toBe(allowed);
      if (allowed) expect(encodeURIComponent(character)).toBe(character);
    }
    expect(isCurrencyCode('.')).toBe(false);
    expect(isCurrencyCode('%')).toBe(false);
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
    // On codes already folded, the wanted codes alone are folded.
    const folded = foldedCurrencyMatcher(['uSd', 'ßtraße']);
    expect(['USD', 'ßTRAßE', 'usd', 'EUR'].map(folded)).toEqual([true, true, false, false]);
    expect(foldedCurrencyMatcher(null)('ANY')).toBe(true);
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

  /** The message of a refusal, as it names the field and the item. */
  const refusal = (field: string, item: number, received: string) =>
    `${field}(currencies:) item ${item}: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", ${received}`;

  /** A request refused before it ran: HTTP 400, one error per bad argument, no data, no call. */
  async function expectRefused(
    request: Promise<Awaited<ReturnType<typeof post>>>,
    messages: string[],
  ) {
    const { status, body } = await request;
    expect(status).toBe(400);
    expect(body).not.toHaveProperty('data');
    expect(body.errors).toEqual(
      messages.map((message) =>
        expect.objectContaining({ message, extensions: { code: 'BAD_USER_INPUT' } }),
      ),
    );
    expect(app.sandbox.calls()).toEqual([]);
  }

  /** Field, what the test calls it, and the query. */
  const FIELDS: [string, string, (list: string) => string][] = [
    ['Query.totals', 'Query.totals', (list) => `{ totals(currencies: ${list}) { complete } }`],
    [
      'Provider.balances',
      'Provider.balances of one provider',
      (list) => `{ provider(id: "pik-main") { balances(currencies: ${list}) { total } } }`,
    ],
    [
      'Provider.balances',
      'Provider.balances of every provider',
      (list) => `{ providers { balances(currencies: ${list}) { total } } }`,
    ],
    [
      'Account.balances',
      'Account.balances',
      (list) =>
        `{ provider(id: "pik-main") { accounts { balances(currencies: ${list}) { total } } } }`,
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

  for (const [field, name, query] of FIELDS) {
    for (const [code, received] of BAD) {
      it(`${name} refuses ${JSON.stringify(code.slice(0, 12))} with HTTP 400, before any upstream call`, async () => {
        await expectRefused(post(query(JSON.stringify(['usd', code]))), [
          refusal(field, 1, received),
        ]);
      });
    }
  }

  it('refuses a code given as a variable the same way', async () => {
    await expectRefused(
      post(
        'query ($c: [String!]) { provider(id: "pik-main") { balances(currencies: $c) { total } } }',
        { c: ['..'] },
      ),
      [refusal('Provider.balances', 0, 'received ".."')],
    );
  });

  it('refuses a nested code given as a variable, a single value or an item of a list', async () => {
    await expectRefused(
      post(
        'query ($c: [String!]) { providers { accounts { balances(currencies: $c) { total } } } }',
        { c: ['usd', 'eur', '..'] },
      ),
      [refusal('Account.balances', 2, 'received ".."')],
    );
    // A single value where a list is expected is a list of one, as GraphQL coerces it.
    await expectRefused(
      post(
        'query ($c: [String!]) { providers { accounts { balances(currencies: $c) { total } } } }',
        { c: '.' },
      ),
      [refusal('Account.balances', 0, 'received "."')],
    );
    await expectRefused(
      post(
        'query ($c: String!) { provider(id: "pik-main") { accounts { balances(currencies: ["usd", $c]) { total } } } }',
        { c: 'a/b' },
      ),
      [refusal('Account.balances', 1, 'received "a/b"')],
    );
  });

  it('judges the variables of every request, however often the same document came before', async () => {
    const query =
      'query Again($c: [String!]) { provider(id: "pik-main") { balances(currencies: $c) { total } } }';
    const good = await post(query, { c: ['usd'] });
    expect(good.status).toBe(200);
    expect(good.body.errors).toBeUndefined();
    await expectRefused(post(query, { c: ['..'] }), [
      refusal('Provider.balances', 0, 'received ".."'),
    ]);
    const again = await post(query, { c: ['eur'] });
    expect(again.status).toBe(200);
    expect(again.body.errors).toBeUndefined();
  });

  it("refuses a nested code from a variable's default value", async () => {
    await expectRefused(
      post(
        'query ($c: [String!] = ["usd", ".."]) { provider(id: "pik-main") { accounts { balances(currencies: $c) { total } } } }',
      ),
      [refusal('Account.balances', 1, 'received ".."')],
    );
  });

  it('refuses a nested code in a fragment, an inline fragment or an aliased field', async () => {
    await expectRefused(
      post(
        `query { provider(id: "pik-main") { ...Accounts } }
         fragment Accounts on Provider { accounts { ...Balances } }
         fragment Balances on Account { usd: balances(currencies: ["usd"]) { total } bad: balances(currencies: [".."]) { total } }`,
      ),
      [refusal('Account.balances', 0, 'received ".."')],
    );
    await expectRefused(
      post(
        'query ($c: [String!]) { providers { ... on Provider { accounts { ... { cheap: balances(currencies: $c) { total } } } } } }',
        { c: ['%2e%2e'] },
      ),
      [refusal('Account.balances', 0, 'received "%2e%2e"')],
    );
  });

  it('refuses a nested code below a federation entity', async () => {
    await expectRefused(
      post(
        'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { balances(currencies: [".."]) { total } } } }',
        { r: [{ __typename: 'Account', id: 'pik-main:any' }] },
      ),
      [refusal('Account.balances', 0, 'received ".."')],
    );
  });

  it('names every bad argument of a request, once each, and reads nothing', async () => {
    await expectRefused(
      post(
        `{ providers { id accounts { id balances(currencies: ["USD", "."]) { total } } }
           totals(currencies: [".."]) { complete } }`,
      ),
      [refusal('Account.balances', 1, 'received "."'), refusal('Query.totals', 0, 'received ".."')],
    );
  });

  it('leaves a value that is not a list of strings to GraphQL, which refuses it as before', async () => {
    const { status, body } = await post(
      'query ($c: [String!]) { providers { accounts { balances(currencies: $c) { total } } } }',
      { c: [1] },
    );
    expect(status).toBe(400);
    expect(body).not.toHaveProperty('data');
    expect(body.errors?.[0]?.message).toMatch(/^Variable "\$c" got invalid value 1\b/);
    expect(app.sandbox.calls()).toEqual([]);
  });

  it('still reads good codes given through variables and fragments', async () => {
    const { status, body } = await post(
      `query ($c: [String!], $one: String!) { provider(id: "pik-main") { ...B accounts { balances(currencies: [$one]) { currency } } } }
       fragment B on Provider { balances(currencies: $c) { currency total } }`,
      { c: 'usd', one: 'Usd' },
    );
    expect(status).toBe(200);
    expect(body).toMatchObject({
      data: { provider: { balances: [{ currency: 'USD', total: '1500.25' }] } },
    });
    expect(body).not.toHaveProperty('errors');
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
      const refused = await standalone(pik.adapter)
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
