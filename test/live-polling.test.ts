import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProviderReadEvent } from '../src/provider-events.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import type { ProviderRuntime } from '../src/tenants.js';
import { balanceCalls, demoConfigWith } from './helpers/app.js';
import {
  balanceEventOf,
  type LiveApp,
  PIK_BALANCE_EVENTS,
  startLiveApp,
  subscribeSse,
} from './helpers/live.js';

describe('the poller of a (tenant, provider)', () => {
  let app: LiveApp;
  let data: SandboxData;
  let provider: ProviderRuntime;
  const records = () => data.pik.customers[0]?.records ?? [];

  /** Resolves with the next read of pik-main that settles, whoever made it. */
  const nextRead = () =>
    new Promise<ProviderReadEvent>((resolve) => {
      const stop = provider.onRead((event) => {
        stop();
        resolve(event);
      });
    });

  /** Once a poll has settled, its next one is on the timers: then time may move. */
  const nextPollScheduled = () =>
    vi.waitFor(() => expect(app.timers.pending()).toBe(1), { interval: 1 });

  beforeAll(async () => {
    data = createDemoSandboxData();
    app = await startLiveApp({
      data,
      kinds: ['pik'],
      configDocument: demoConfigWith({ pollIntervalMs: 1000, staleIfErrorMs: 60_000 }, ['pik']),
      subscriptions: { maxPerCaller: 500 },
    });
    provider = app.runtime.tenants.get('default')?.byId.get('pik-main') as ProviderRuntime;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('reads once per interval for 200 subscribers, and stops when the last one leaves', async () => {
    app.sandbox.clearCalls();
    const first = nextRead();
    const subscriptions = await Promise.all(
      Array.from({ length: 200 }, () =>
        subscribeSse(app.url, PIK_BALANCE_EVENTS, { currencies: ['USD'] }),
      ),
    );
    await first;
    for (const subscription of subscriptions) {
      expect(await balanceEventOf(subscription)).toMatchObject({
        kind: 'SNAPSHOT',
        currency: 'USD',
      });
    }
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(app.server.live.active()).toBe(200);

    for (let interval = 2; interval <= 4; interval += 1) {
      await nextPollScheduled();
      const read = nextRead();
      app.timers.advance(1000);
      await read;
      expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(interval);
    }
    // Half an interval: no read.
    await nextPollScheduled();
    app.timers.advance(500);
    expect(app.timers.pending()).toBe(1);

    for (const subscription of subscriptions) subscription.close();
    await Promise.all(subscriptions.map((subscription) => subscription.ended));
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
    // The poller is gone at once: no timer is left to fire, however far time moves.
    expect(app.server.live.hub.pollers()).toBe(0);
    expect(app.timers.pending()).toBe(0);
    app.timers.advance(10_000);
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(4);
  });

  it("turns a query's read into events, with no poll of its own", async () => {
    const subscription = await subscribeSse(app.url, PIK_BALANCE_EVENTS, { currencies: ['EUR'] });
    expect(await balanceEventOf(subscription)).toMatchObject({
      kind: 'SNAPSHOT',
      balance: { total: '9007199254740993.01' },
    });
    app.sandbox.clearCalls();
    const eur = records()[1];
    if (eur === undefined) throw new Error('demo data changed');
    eur.balance = '9007199254740993.03';
    const result = await app.query('{ provider(id: "pik-main") { balances { total } } }');
    expect(result.errors).toBeUndefined();
    expect(await balanceEventOf(subscription)).toEqual({
      kind: 'CHANGED',
      currency: 'EUR',
      balance: { total: '9007199254740993.03', stale: false },
      previous: { total: '9007199254740993.01' },
    });
    // The query's read was the only one.
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(1);
    subscription.close();
    await subscription.ended;
  });

  it('gives a new subscriber no SNAPSHOT while the provider is down, stale ones when an earlier read may answer, fresh ones once it is back', async () => {
    await vi.waitFor(() => expect(app.server.live.hub.pollers()).toBe(0), { interval: 5 });
    // The subscriber arrives while every read fails.
    app.sandbox.setFault('pik', { type: 'status', status: 503 });
    const failed = nextRead();
    const subscription = await subscribeSse(app.url, PIK_BALANCE_EVENTS, { currencies: ['HKD'] });
    const event = await failed;
    expect(event.ok).toBe(false);
    // The stale answer of the failed poll (the query above read every currency a moment ago).
    expect(await balanceEventOf(subscription)).toEqual({
      kind: 'SNAPSHOT',
      currency: 'HKD',
      balance: { total: '0.1', stale: true },
      previous: null,
    });
    // Back up: the next poll compares with what was seen; nothing changed, so no event, and a
    // change after it is CHANGED.
    app.sandbox.clearFaults();
    const hkd = records()[3];
    if (hkd === undefined) throw new Error('demo data changed');
    hkd.balance = '0.10';
    await nextPollScheduled();
    let read = nextRead();
    app.timers.advance(1000);
    expect((await read).ok).toBe(true);
    hkd.balance = '0.2';
    await nextPollScheduled();
    read = nextRead();
    app.timers.advance(1000);
    await read;
    expect(await balanceEventOf(subscription)).toEqual({
      kind: 'CHANGED',
      currency: 'HKD',
      balance: { total: '0.2', stale: false },
      // The value before as last read: "0.10", the same amount as the "0.1" of the SNAPSHOT.
      previous: { total: '0.10' },
    });
    subscription.close();
    await subscription.ended;
  });
});
