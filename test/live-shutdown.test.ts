import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveHub, pollIntervalsOf } from '../src/live/hub.js';
import { startBalanceServer } from '../src/server.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { createManualTimers, subscribeSse } from './helpers/live.js';

const EVENTS =
  'subscription { balanceEvents(currencies: ["USD"]) { kind currency balance { total } } }';

describe('subscriptions during the shutdown sequence', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ kinds: ['pik'] });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('ends the open subscriptions at once, and refuses a new one with SHUTTING_DOWN while the listener still accepts', async () => {
    // The drain's timers and the pollers' both fire only when the test moves them.
    const timers = createManualTimers();
    const server = await startBalanceServer({
      runtime: app.runtime,
      server: { ...app.config.server, port: 0, shutdownDelayMs: 1000, drainTimeoutMs: 5000 },
      timers,
      liveHub: createLiveHub({
        timers: createManualTimers(),
        pollIntervalOf: pollIntervalsOf(app.config),
      }),
    });
    const url = `${server.origin}/graphql`;
    const open = await subscribeSse(url, EVENTS);
    expect((await open.next()).data?.balanceEvents).toMatchObject({
      kind: 'SNAPSHOT',
      currency: 'USD',
    });

    const done = server.shutdown();
    // The drain does not wait for a stream that would never end by itself.
    await open.ended;
    const late = await subscribeSse(url, EVENTS);
    const answer = await late.next();
    expect(answer.data ?? null).toBeNull();
    expect(answer.errors).toEqual([
      expect.objectContaining({
        message: 'The server is shutting down: no new subscriptions.',
        extensions: expect.objectContaining({ code: 'SHUTTING_DOWN' }),
      }),
    ]);
    await late.ended;
    timers.advance(1000);
    expect(await done).toEqual({ destroyed: 0 });
  });
});
