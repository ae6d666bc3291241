import { afterEach, describe, expect, it } from 'vitest';
import { createDemoConfigDocument, createDemoSandboxData } from '../src/sandbox/demo.js';
import { startTestApp, type TestApp } from './helpers/app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const TOTALS = '{ totals { complete missingProviders currencies { currency total available } } }';

describe('totals', () => {
  it('sums exactly by currency across providers and kinds', async () => {
    app = await startTestApp();
    const result = await app.query(TOTALS);
    expect(result).toEqual({
      data: {
        totals: {
          complete: true,
          missingProviders: [],
          currencies: [
            { currency: 'CNY', total: '14.3456', available: '14.3456' },
            { currency: 'ETH', total: '0.000000000000000001', available: '0.000000000000000001' },
            { currency: 'EUR', total: '9007199254740993.01', available: '9007199254740993.01' },
            // 0.1 at PIK plus 0.2 of prepaid voice credit: a float would say 0.30000000000000004.
            { currency: 'HKD', total: '0.3', available: '0.3' },
            { currency: 'USD', total: '1500.25', available: '1200.25' },
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
        providers: createDemoConfigDocument(baseUrl).providers.map((provider) =>
          provider.id === 'voice' ? { ...provider, currency: 'Usd' } : provider,
        ),
      }),
    });
    const result = await app.query(
      '{ totals(currencies: ["uSD"]) { currencies { currency total available } } }',
    );
    expect(result.data?.totals).toEqual({
      currencies: [{ currency: 'USD', total: '1500.45', available: '1200.45' }],
    });
  });

  it('lists a provider that cannot be read in missingProviders and sums the rest', async () => {
    app = await startTestApp({
      configDocument: (baseUrl) => {
        const document = createDemoConfigDocument(baseUrl);
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
});
