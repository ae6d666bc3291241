import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { balanceCalls, demoConfigWith } from './helpers/app.js';
import { type LiveApp, startLiveApp, subscribeSse } from './helpers/live.js';

const EVENTS = `subscription ($ids: [ID!], $currencies: [String!]) {
  balanceEvents(providerIds: $ids, currencies: $currencies) {
    kind providerId accountId currency network at
    balance { total available components { kind amount } fetchedAt account { id name } }
    previous { total available components { kind amount } }
  }
}`;

interface EventShape {
  kind: string;
  accountId: string;
  currency: string;
  balance: { total: string; available: string } | null;
  previous: { total: string; available: string } | null;
  at: string;
}

describe('balanceEvents over SSE: SNAPSHOT, then ADDED, CHANGED and REMOVED', () => {
  let app: LiveApp;
  let data: SandboxData;
  const records = () => data.pik.customers[0]?.records ?? [];

  beforeAll(async () => {
    data = createDemoSandboxData();
    app = await startLiveApp({
      data,
      kinds: ['pik'],
      configDocument: demoConfigWith({ pollIntervalMs: 1000 }, ['pik']),
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('sends a SNAPSHOT of every balance, then one event per difference with the exact previous value', async () => {
    app.sandbox.clearCalls();
    const subscription = await subscribeSse(app.url, EVENTS, { ids: ['pik-main'] });
    expect(subscription.status).toBe(200);
    expect(subscription.headers.get('content-type')).toContain('text/event-stream');
    const snapshots: EventShape[] = [];
    for (let index = 0; index < records().length; index += 1) {
      const { data: result } = await subscription.next();
      snapshots.push(result?.balanceEvents as EventShape);
    }
    expect(snapshots.map((event) => [event.kind, event.accountId, event.currency])).toEqual(
      records().map((record) => ['SNAPSHOT', `pik-main:${record.balanceNo}`, record.currencyCode]),
    );
    expect(snapshots[0]?.balance?.total).toBe('1500.25');
    expect(snapshots.every((event) => event.previous === null)).toBe(true);
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(1);

    // Same amounts at another scale: no event. A changed total: CHANGED with the value before.
    const usd = records()[0];
    const eur = records()[1];
    if (usd === undefined || eur === undefined) throw new Error('demo data changed');
    usd.balance = '1500.2500';
    eur.balance = '9007199254740993.02';
    eur.availableBalance = '9007199254740993.02';
    // An added balance, and a removed one.
    const [removed] = records().splice(2, 1);
    records().push({ ...usd, balanceNo: 'PIK-GBP-009', currencyCode: 'GBP', balance: '7.5' });

    app.timers.advance(1000);
    const changes: EventShape[] = [];
    for (let index = 0; index < 3; index += 1) {
      changes.push((await subscription.next()).data?.balanceEvents as EventShape);
    }
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(2);
    const byKind = Object.fromEntries(changes.map((event) => [event.kind, event]));
    expect(Object.keys(byKind).sort()).toEqual(['ADDED', 'CHANGED', 'REMOVED']);
    expect(byKind.CHANGED).toMatchObject({
      accountId: 'pik-main:PIK-EUR-002',
      currency: 'EUR',
      balance: { total: '9007199254740993.02', available: '9007199254740993.02' },
      previous: { total: '9007199254740993.01', available: '9007199254740993.01' },
    });
    expect(byKind.REMOVED).toMatchObject({
      accountId: `pik-main:${removed?.balanceNo}`,
      balance: null,
      previous: { total: '0.000000000000000001' },
    });
    expect(byKind.ADDED).toMatchObject({
      accountId: 'pik-main:PIK-GBP-009',
      currency: 'GBP',
      balance: { total: '7.5' },
      previous: null,
    });
    subscription.close();
    await subscription.ended;
  });
});
