import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { balanceCalls, DASHBOARD_QUERY, startTestApp, type TestApp } from './helpers/app.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
  // Log in once, so the counts below are balance reads only.
  await app.query(DASHBOARD_QUERY);
});
afterAll(() => app.close());
beforeEach(() => app.sandbox.clearCalls());

/** Balance reads per configured provider (the two prepaid instances differ by their key). */
function readsPerProvider() {
  const prepaid = balanceCalls(app.sandbox, 'prepaid');
  const keyOf = (user: string) => `Basic ${Buffer.from(user).toString('base64')}`;
  return {
    'pik-main': balanceCalls(app.sandbox, 'pik').length,
    ops: balanceCalls(app.sandbox, 'asset-accounts').length,
    acquirer: balanceCalls(app.sandbox, 'merchant').length,
    treasury: balanceCalls(app.sandbox, 'wallet').length,
    sms: prepaid.filter((call) => call.headers.authorization === keyOf('demo-sms:demo-sms-secret'))
      .length,
    voice: prepaid.filter(
      (call) => call.headers.authorization === keyOf('demo-voice:demo-voice-secret'),
    ).length,
  };
}

const NONE = { 'pik-main': 0, ops: 0, acquirer: 0, treasury: 0, sms: 0, voice: 0 };
const ONE_EACH = { 'pik-main': 1, ops: 1, acquirer: 1, treasury: 1, sms: 1, voice: 1 };

describe('one GraphQL request makes at most one upstream balance call per provider', () => {
  it('for the dashboard query', async () => {
    const result = await app.query(DASHBOARD_QUERY);
    expect(result.errors).toBeUndefined();
    expect(readsPerProvider()).toEqual(ONE_EACH);
  });

  it('with aliases, currency filters, totals, and the same provider reached through providers and provider(id)', async () => {
    const result = await app.query(`{
      a: providers { id accounts { id balances(currencies: ["usd"]) { total } } }
      b: providers { balances(currencies: ["EUR", "HKD"]) { total } }
      p1: provider(id: "pik-main") { balances(currencies: ["ETH"]) { total } }
      p2: provider(id: "pik-main") { accounts { balances { currency } } }
      sms: provider(id: "sms") { balances { total } }
      t1: totals { currencies { currency total } }
      t2: totals(currencies: ["hkd"]) { currencies { total } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(readsPerProvider()).toEqual(ONE_EACH);
  });

  it('for nested fields that reach the provider back through account and balance', async () => {
    const result = await app.query(`{
      providers { accounts { provider { balances { account { provider { id } } } } } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(readsPerProvider()).toEqual(ONE_EACH);
  });

  it('and none for a provider the request does not touch', async () => {
    await app.query('{ provider(id: "sms") { balances { total } } providers { id name kind } }');
    expect(readsPerProvider()).toEqual({ ...NONE, sms: 1 });
  });
});

describe('pik: Get Balance by Currency when exactly one currency is needed', () => {
  it('uses /api/v1/balance/{currencyCode} for one currency, whatever its case or how often it is asked', async () => {
    const result = await app.query(`{
      x: provider(id: "pik-main") { balances(currencies: ["usd"]) { currency total available } }
      y: provider(id: "pik-main") { balances(currencies: ["USD"]) { total } }
      totals(currencies: ["Usd"]) { currencies { currency total } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data?.x).toEqual({
      balances: [{ currency: 'USD', total: '1500.25', available: '1200.25' }],
    });
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.path)).toEqual([
      '/api/v1/balance/USD',
    ]);
  });

  it('uses the list for two currencies, or when accounts are asked for', async () => {
    await app.query(
      '{ provider(id: "pik-main") { balances(currencies: ["USD", "EUR"]) { total } } }',
    );
    await app.query(
      '{ provider(id: "pik-main") { accounts { balances(currencies: ["USD"]) { total } } } }',
    );
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.path)).toEqual([
      '/api/v1/balance/list',
      '/api/v1/balance/list',
    ]);
  });

  it('answers an empty list, not an error, for a currency the customer does not hold', async () => {
    const result = await app.query(
      '{ provider(id: "pik-main") { balances(currencies: ["JPY"]) { total } } }',
    );
    expect(result).toEqual({ data: { provider: { balances: [] } } });
    expect(balanceCalls(app.sandbox, 'pik').map((call) => [call.path, call.status])).toEqual([
      ['/api/v1/balance/JPY', 404],
    ]);
  });

  it('answers null for an unknown provider id without calling anything', async () => {
    const result = await app.query('{ provider(id: "nope") { id balances { total } } }');
    expect(result).toEqual({ data: { provider: null } });
    expect(app.sandbox.calls()).toHaveLength(0);
  });
});

describe('wallet: every asset a request needs, in one POST', () => {
  it('gathers three assets asked for through aliases into one POST /v2/balance', async () => {
    const result = await app.query(`{
      usdt: provider(id: "treasury") { balances(currencies: ["usdt"]) { currency total } }
      btc: provider(id: "treasury") { balances(currencies: ["BTC"]) { currency total } }
      xrp: provider(id: "treasury") { balances(currencies: ["Xrp"]) { currency depositAddresses { memo } } }
    }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      usdt: { balances: [{ currency: 'USDT', total: '1.00' }] },
      btc: { balances: [{ currency: 'BTC', total: '0.00022346' }] },
      xrp: { balances: [{ currency: 'XRP', depositAddresses: [{ memo: '370145' }] }] },
    });
    const posts = balanceCalls(app.sandbox, 'wallet');
    expect(posts).toHaveLength(1);
    const sent = JSON.parse(posts[0]?.body ?? '{}') as { walletId: string; assets: string[] };
    expect(sent.walletId).toBe('1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5');
    expect([...sent.assets].sort()).toEqual(['BTC', 'USDT', 'XRP']);
  });

  it('sends no assets filter when the request needs the whole wallet', async () => {
    await app.query(`{
      provider(id: "treasury") { accounts { id } balances(currencies: ["BTC"]) { total } }
    }`);
    const posts = balanceCalls(app.sandbox, 'wallet');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]?.body ?? '{}')).toEqual({
      walletId: '1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5',
    });
  });

  it('narrows totals(currencies) to those assets', async () => {
    await app.query('{ totals(currencies: ["usdt", "btc"]) { currencies { currency total } } }');
    const posts = balanceCalls(app.sandbox, 'wallet');
    expect(posts).toHaveLength(1);
    expect(JSON.parse(posts[0]?.body ?? '{}').assets.sort()).toEqual(['BTC', 'USDT']);
  });
});

describe('balances(minTotal)', () => {
  it('keeps only balances whose total is at least the Decimal given, compared exactly', async () => {
    const result = await app.query(`{
      provider(id: "pik-main") {
        balances(minTotal: "0.1") { currency total }
        accounts { balances(minTotal: "1500.250000000000000001") { total } }
      }
    }`);
    expect(result.errors).toBeUndefined();
    const provider = result.data?.provider as {
      balances: { currency: string }[];
      accounts: { balances: unknown[] }[];
    };
    // 0.000000000000000001 ETH is below 0.1; HKD 0.1 is not.
    expect(provider.balances.map((balance) => balance.currency)).toEqual(['USD', 'EUR', 'HKD']);
    // Only the 9007199254740993.01 EUR account reaches 1500.250000000000000001.
    expect(provider.accounts.map((account) => account.balances.length)).toEqual([0, 1, 0, 0]);
  });
});
