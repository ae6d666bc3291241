import { afterEach, describe, expect, it } from 'vitest';
import { createDemoSandboxData } from '../src/sandbox/demo.js';
import { demoConfigDocument, startTestApp, type TestApp } from './helpers/app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const TOTALS =
  '{ totals { complete missingProviders staleProviders currencies { currency total available } } }';

describe('totals', () => {
  it('sums exactly by currency across all five kinds', async () => {
    app = await startTestApp();
    const result = await app.query(TOTALS);
    expect(result).toEqual({
      data: {
        totals: {
          complete: true,
          missingProviders: [],
          staleProviders: [],
          currencies: [
            // wallet: available 0.00012345 + HOLD 0.0001 + LOCKED 0.00000001; REFERRAL not added.
            { currency: 'BTC', total: '0.00022346', available: '0.00012345' },
            { currency: 'CNY', total: '14.3456', available: '14.3456' },
            { currency: 'ETH', total: '0.000000000000000001', available: '0.000000000000000001' },
            // pik 9007199254740993.01 + merchant 420.40.
            { currency: 'EUR', total: '9007199254741413.41', available: '9007199254741413.41' },
            // asset-accounts, a suppressed account: still counted.
            { currency: 'GBP', total: '75.5', available: '75.5' },
            // 0.1 at PIK plus 0.2 of prepaid voice credit: a float would say 0.30000000000000004.
            { currency: 'HKD', total: '0.3', available: '0.3' },
            // pik 1500.25 + asset-accounts 2500.10 + merchant 12386.00 (available 1200.25 + 2200.10 + 12356.00).
            { currency: 'USD', total: '16386.35', available: '15756.35' },
            // asset-accounts 1000.000001 + wallet 0.64 + HOLD 0.36 (available 1000.000001 + 0.64).
            { currency: 'USDT', total: '1001.000001', available: '1000.640001' },
            { currency: 'XRP', total: '25', available: '25' },
          ],
        },
      },
    });
  });

  it('groups currency codes without regard to case, and filters the same way', async () => {
    const data = createDemoSandboxData();
    const usd = data.pik.customers[0]?.records[0];
    if (usd?.currencyCode !== 'USD') throw new Error('demo data changed');
    // PIK writes its USD in lower case; the voice credit is configured as "Usd" and holds 0.2.
    usd.currencyCode = 'usd';
    app = await startTestApp({
      data,
      configDocument: (baseUrl) => ({
        providers: demoConfigDocument(baseUrl).providers.map((provider) =>
          provider.id === 'voice' ? { ...provider, currency: 'Usd' } : provider,
        ),
      }),
    });
    const result = await app.query(
      '{ totals(currencies: ["uSD"]) { currencies { currency total available } } }',
    );
    expect(result.data?.totals).toEqual({
      // pik 1500.25 + asset-accounts 2500.10 + merchant 12386.00 + voice 0.2.
      currencies: [{ currency: 'USD', total: '16386.55', available: '15756.55' }],
    });
  });

  it('lists a provider that cannot be read in missingProviders and sums the rest', async () => {
    app = await startTestApp({
      configDocument: (baseUrl) => {
        const document = demoConfigDocument(baseUrl);
        return {
          providers: document.providers.map((provider) =>
            provider.id === 'voice'
              ? { ...provider, credentials: { devKey: 'demo-voice', devSecret: 'wrong' } }
              : provider,
          ),
        };
      },
    });
    const result = await app.query(TOTALS);
    const totals = result.data?.totals as {
      complete: boolean;
      missingProviders: string[];
      currencies: { currency: string; total: string }[];
    };
    expect(totals.complete).toBe(false);
    expect(totals.missingProviders).toEqual(['voice']);
    expect(totals.currencies.find((row) => row.currency === 'HKD')?.total).toBe('0.1');
    expect(totals.currencies.find((row) => row.currency === 'CNY')?.total).toBe('14.3456');
  });

  it('counts a provider answered from an earlier read, lists it in staleProviders, and still says which are missing', async () => {
    app = await startTestApp({
      configDocument: (baseUrl) => ({
        providers: demoConfigDocument(baseUrl).providers.map((provider) =>
          provider.id === 'voice'
            ? { ...provider, credentials: { devKey: 'demo-voice', devSecret: 'wrong' } }
            : provider.id === 'treasury'
              ? { ...provider, staleIfErrorMs: 60_000 }
              : provider,
        ),
      }),
    });
    const before = await app.query(TOTALS);
    // On balance-api's clock (the sandbox's, so one-time passwords still agree).
    app.sandbox.clock.advance(30_000);
    app.sandbox.setFault('wallet', { type: 'status', status: 500 });
    const during = await app.query(TOTALS);
    app.sandbox.clearFaults();
    // Totals add no error of their own, stale or missing.
    expect(during.errors).toBeUndefined();
    const totals = during.data?.totals as {
      complete: boolean;
      missingProviders: string[];
      staleProviders: string[];
      currencies: { currency: string; total: string }[];
    };
    expect(totals.complete).toBe(false);
    expect(totals.missingProviders).toEqual(['voice']);
    expect(totals.staleProviders).toEqual(['treasury']);
    // The wallet's currencies are summed from the earlier read, as they were.
    expect(totals.currencies).toEqual((before.data as { totals: typeof totals }).totals.currencies);
    expect(totals.currencies.find((row) => row.currency === 'XRP')?.total).toBe('25');
  });
});
