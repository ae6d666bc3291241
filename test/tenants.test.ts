import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoSandboxData, DEMO_CREDENTIALS } from '../src/sandbox/demo.js';
import {
  demoConfigDocument,
  type GraphQLResult,
  loginCalls,
  startTestApp,
  type TestApp,
} from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';

/**
 * Two tenants, acme and globex, with the same provider ids against the same sandbox, each with its
 * own credentials and data.
 */
const ACME_KEY = 'acme-api-key-canary-3f9d';
const GLOBEX_KEY = 'globex-api-key-canary-81aa';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const GLOBEX_WALLET = '0b7e3c52-5f1e-4a51-9d3c-6f1f0c2b9e77';
const GLOBEX = {
  pik: { appId: 'globex-pik', appSecret: 'globex-pik-secret' },
  assetAccounts: {
    username: 'globex-ops',
    password: 'globex-ops-password',
    otpSecret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  },
  merchant: { clientId: 'globex-merchant', clientSecret: 'globex-merchant-secret' },
  wallet: { apiKey: 'globex-wallet-api-key' },
  prepaid: { devKey: 'globex-sms', devSecret: 'globex-sms-secret' },
};

function twoTenantData() {
  const data = createDemoSandboxData();
  data.pik.customers.push({
    ...GLOBEX.pik,
    records: [
      {
        balanceNo: 'GLX-USD-1',
        accountType: 'GLOBAL_ACCOUNT',
        accountName: 'Globex USD',
        assetType: 'FIAT',
        currencyCode: 'USD',
        currencyName: 'US Dollar',
        networkCode: '',
        balance: '10.01',
        availableBalance: '10.01',
        frozenBalance: '0',
        pendingBalance: '0',
        status: 'ACTIVE',
        lastChangeTime: '2026-11-01T00:00:00.000Z',
      },
    ],
  });
  data['asset-accounts'].customers.push({
    ...GLOBEX.assetAccounts,
    details: [
      {
        id: 900,
        asset: 'USD',
        totalBalance: '20.02',
        availableBalance: '20.02',
        pendingBalance: '0',
      },
    ],
  });
  data.merchant.merchants.push({
    ...GLOBEX.merchant,
    entries: [
      {
        Balance: '30.03',
        ReservedAmount: '0.00',
        AvailableBalance: '30.03',
        Currency: 'USD',
        Name: 'Globex (USD)',
        Id: '900',
      },
    ],
  });
  data.wallet.wallets.push({
    walletId: GLOBEX_WALLET,
    ...GLOBEX.wallet,
    assets: [
      { asset: 'USDT', balance: '40.04', holdBalance: '0', lockBalance: '0', referralBalance: '0' },
    ],
  });
  data.prepaid.merchants.push({ ...GLOBEX.prepaid, balance10000: '500500', giftBalance10000: '0' });
  return data;
}

function twoTenantConfig(baseUrl: (kind: string) => string, sameCredentials = false) {
  const acme = demoConfigDocument(baseUrl).providers.filter((provider) => provider.id !== 'voice');
  const globex = acme.map((provider) => {
    if (sameCredentials) return provider;
    switch (provider.kind) {
      case 'pik':
        return { ...provider, credentials: GLOBEX.pik };
      case 'asset-accounts':
        return { ...provider, credentials: GLOBEX.assetAccounts };
      case 'merchant':
        return { ...provider, credentials: GLOBEX.merchant };
      case 'wallet':
        return { ...provider, walletId: GLOBEX_WALLET, credentials: GLOBEX.wallet };
      default:
        return { ...provider, credentials: GLOBEX.prepaid };
    }
  });
  return {
    auth: {
      apiKeys: [
        { tenant: 'acme', sha256: sha256(ACME_KEY) },
        { tenant: 'globex', sha256: sha256(GLOBEX_KEY).toUpperCase() },
      ],
    },
    tenants: [
      { id: 'acme', providers: acme },
      { id: 'globex', providers: globex },
    ],
  };
}

const asAcme = { authorization: `Bearer ${ACME_KEY}` };
const asGlobex = { authorization: `Bearer ${GLOBEX_KEY}` };
const QUERY = `{
  providers { id accounts { id balances { currency total } } }
  totals { complete currencies { currency total } }
}`;

function usdTotal(result: GraphQLResult): string | undefined {
  const totals = result.data?.totals as { currencies: { currency: string; total: string }[] };
  return totals.currencies.find((row) => row.currency === 'USD')?.total;
}

describe('two tenants with the same provider ids', () => {
  let app: TestApp;
  const logs = captureLogs();
  beforeAll(async () => {
    app = await startTestApp({
      data: twoTenantData(),
      configDocument: (baseUrl) => twoTenantConfig(baseUrl),
      log: logs.log,
    });
  });
  afterAll(() => app.close());

  it('each sees only its own balances and totals', async () => {
    const acme = await app.query(QUERY, undefined, asAcme);
    const globex = await app.query(QUERY, undefined, asGlobex);
    expect(acme.errors).toBeUndefined();
    expect(globex.errors).toBeUndefined();
    const accountsOf = (result: GraphQLResult) =>
      ((result.data?.providers ?? []) as { id: string; accounts: { id: string }[] }[]).flatMap(
        (provider) => provider.accounts.map((account) => account.id),
      );
    expect(accountsOf(globex)).toEqual([
      'pik-main:GLX-USD-1',
      'ops:900',
      'acquirer:900',
      `treasury:${GLOBEX_WALLET}`,
      'sms:default',
    ]);
    expect(accountsOf(acme)).toContain('pik-main:PIK-USD-001');
    expect(accountsOf(acme).some((id) => id.includes('GLX') || id.endsWith(':900'))).toBe(false);
    // 10.01 + 20.02 + 30.03 for globex; acme's own USD for acme.
    expect(usdTotal(globex)).toBe('60.06');
    expect(usdTotal(acme)).toBe('16386.35');
  });

  it('20 concurrent queries from each tenant cause one login per tenant and provider', async () => {
    // Fresh tenants: a new app over the same sandbox.
    const fresh = await startTestApp({
      sandbox: app.sandbox,
      configDocument: (baseUrl) => twoTenantConfig(baseUrl),
    });
    app.sandbox.clearCalls();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        fresh.query(QUERY, undefined, index % 2 === 0 ? asAcme : asGlobex),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    for (const kind of ['pik', 'asset-accounts', 'merchant'] as const) {
      const logins = loginCalls(app.sandbox, kind).map(
        (call) => JSON.parse(call.body) as Record<string, string>,
      );
      expect(logins).toHaveLength(2);
      const who = logins.map((body) => body.appId ?? body.username ?? body.ClientId).sort();
      expect(who).toEqual(
        {
          pik: [DEMO_CREDENTIALS.pik.appId, GLOBEX.pik.appId],
          'asset-accounts': [
            DEMO_CREDENTIALS.assetAccounts.username,
            GLOBEX.assetAccounts.username,
          ],
          merchant: [DEMO_CREDENTIALS.merchant.clientId, GLOBEX.merchant.clientId],
        }[kind].sort(),
      );
    }
    await fresh.close();
  });

  it('never writes an API key to the log', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.some((line) => line.includes('"msg":"graphql request"'))).toBe(true);
    // Each request's line names its tenant.
    expect(logs.lines.some((line) => line.includes('"tenantId":"globex"'))).toBe(true);
    for (const line of logs.lines) {
      expect(line).not.toContain(ACME_KEY);
      expect(line).not.toContain(GLOBEX_KEY);
    }
  });
});

describe("a tenant's login never serves another", () => {
  it('even when both use the same upstream with the same credentials', async () => {
    const app = await startTestApp({
      data: twoTenantData(),
      configDocument: (baseUrl) => twoTenantConfig(baseUrl, true),
    });
    try {
      await app.query(QUERY, undefined, asAcme);
      await app.query(QUERY, undefined, asGlobex);
      await app.query(QUERY, undefined, asAcme);
      const logins = loginCalls(app.sandbox, 'pik');
      expect(logins).toHaveLength(2);
      const acmeToken = app.runtime.tokens.slot('acme', 'pik-main').current()?.value;
      const globexToken = app.runtime.tokens.slot('globex', 'pik-main').current()?.value;
      expect(acmeToken).toBeDefined();
      expect(globexToken).toBeDefined();
      expect(acmeToken).not.toBe(globexToken);
    } finally {
      await app.close();
    }
  });
});
