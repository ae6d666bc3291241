import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ProviderReadEvent } from '../src/provider-events.js';
import { createDemoSandboxData } from '../src/sandbox/demo.js';
import type { ProviderRuntime } from '../src/tenants.js';
import { demoConfigWith } from './helpers/app.js';
import { type LiveApp, startLiveApp, subscribeSse } from './helpers/live.js';

describe('providerStatusChanged, and balanceEvents while a provider is down', () => {
  let app: LiveApp;
  let sms: ProviderRuntime;

  const nextRead = () =>
    new Promise<ProviderReadEvent>((resolve) => {
      const stop = sms.onRead((event) => {
        stop();
        resolve(event);
      });
    });
  const nextPollScheduled = () =>
    vi.waitFor(() => expect(app.timers.pending()).toBe(1), { interval: 1 });

  beforeAll(async () => {
    app = await startLiveApp({
      data: createDemoSandboxData(),
      kinds: ['prepaid'],
      // No stale-if-error (the default): a failed read has nothing to answer with.
      configDocument: demoConfigWith({ pollIntervalMs: 500, retry: { maxRetries: 0 } }, [
        'prepaid',
      ]),
    });
    sms = app.runtime.tenants.get('default')?.byId.get('sms') as ProviderRuntime;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('tells changes of state only, and a balanceEvents subscriber gets no SNAPSHOT until the provider is back', async () => {
    app.sandbox.setFault('prepaid', { type: 'status', status: 503 });
    const status = await subscribeSse(
      app.url,
      'subscription { providerStatusChanged(providerIds: ["sms"]) { id status { state lastError { code } } } }',
    );
    const failed = nextRead();
    const balances = await subscribeSse(
      app.url,
      'subscription { balanceEvents(providerIds: ["sms"]) { kind currency balance { total stale } } }',
    );
    expect((await failed).ok).toBe(false);
    expect((await status.next()).data).toEqual({
      providerStatusChanged: {
        id: 'sms',
        status: { state: 'DOWN', lastError: { code: 'UPSTREAM_UNAVAILABLE' } },
      },
    });
    // Still down at the next poll: no status event (no change), no SNAPSHOT.
    await nextPollScheduled();
    let read = nextRead();
    app.timers.advance(500);
    expect((await read).ok).toBe(false);

    app.sandbox.clearFaults();
    await nextPollScheduled();
    read = nextRead();
    app.timers.advance(500);
    expect((await read).ok).toBe(true);
    // The first event of each: UP, and the SNAPSHOT of the first successful read.
    expect((await status.next()).data).toEqual({
      providerStatusChanged: {
        id: 'sms',
        status: { state: 'UP', lastError: { code: 'UPSTREAM_UNAVAILABLE' } },
      },
    });
    expect((await balances.next()).data).toEqual({
      balanceEvents: {
        kind: 'SNAPSHOT',
        currency: 'CNY',
        balance: { total: '14.3456', stale: false },
      },
    });
    status.close();
    balances.close();
    await vi.waitFor(() => expect(app.server.live.hub.pollers()).toBe(0), { interval: 5 });
  });

  it('refuses an unknown provider id at subscribe time, naming it', async () => {
    const subscription = await subscribeSse(
      app.url,
      'subscription { providerStatusChanged(providerIds: ["sms", "nope"]) { id } }',
    );
    expect((await subscription.next()).errors).toEqual([
      expect.objectContaining({
        message:
          'Subscription.providerStatusChanged(providerIds:) item 1: expected the id of one of your providers, received "nope"',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(app.server.live.active()).toBe(0);
    expect(app.server.live.hub.pollers()).toBe(0);
  });
});
