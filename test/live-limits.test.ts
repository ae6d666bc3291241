import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import type { ProviderReadEvent } from '../src/provider-events.js';
import type { PikRecordData } from '../src/providers/pik/sandbox.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import type { ProviderRuntime } from '../src/tenants.js';
import { demoConfigWith } from './helpers/app.js';
import { type LiveApp, startLiveApp, subscribeSse } from './helpers/live.js';

const RECORDS = 2000;
const MAX_BUFFERED = 200;

/** Every field of every event: a few hundred bytes each, so a stalled socket fills quickly. */
const EVENTS = `subscription {
  balanceEvents(providerIds: ["pik-main"]) {
    kind providerId accountId currency network at
    balance { total available components { kind amount } fetchedAt updatedAt raw account { id name type status } }
    previous { total available components { kind amount } }
  }
}`;

function record(index: number, balance: string): PikRecordData {
  return {
    balanceNo: `PIK-BULK-${String(index).padStart(5, '0')}`,
    accountType: 'GLOBAL_ACCOUNT',
    accountName: `Bulk account number ${index} with a fairly long descriptive name`,
    assetType: 'FIAT',
    currencyCode: 'USD',
    currencyName: 'US Dollar',
    networkCode: '',
    balance,
    availableBalance: balance,
    frozenBalance: '0',
    pendingBalance: '0',
    status: 'ACTIVE',
    lastChangeTime: '2026-11-20T09:47:15.123Z',
  };
}

describe('the limits of subscriptions', () => {
  let app: LiveApp;
  let data: SandboxData;
  let provider: ProviderRuntime;

  const nextRead = () =>
    new Promise<ProviderReadEvent>((resolve) => {
      const stop = provider.onRead((event) => {
        stop();
        resolve(event);
      });
    });

  beforeAll(async () => {
    data = createDemoSandboxData();
    const customer = data.pik.customers[0];
    if (customer === undefined) throw new Error('demo data changed');
    customer.records = Array.from({ length: RECORDS }, (_, index) => record(index, '1.00'));
    app = await startLiveApp({
      data,
      kinds: ['pik'],
      configDocument: demoConfigWith({ pollIntervalMs: 1000 }, ['pik']),
      subscriptions: { maxPerCaller: 3, maxBufferedEvents: MAX_BUFFERED },
    });
    provider = app.runtime.tenants.get('default')?.byId.get('pik-main') as ProviderRuntime;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('caps subscriptions per caller (server.subscriptions.maxPerCaller), across connections', async () => {
    const query = 'subscription { providerStatusChanged { id } }';
    const open = await Promise.all([1, 2, 3].map(() => subscribeSse(app.url, query)));
    await vi.waitFor(() => expect(app.server.live.active()).toBe(3), { interval: 5 });
    const fourth = await subscribeSse(app.url, query);
    expect((await fourth.next()).errors).toEqual([
      expect.objectContaining({
        message:
          'Too many subscriptions of this caller: at most 3 at once (server.subscriptions.maxPerCaller).',
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      }),
    ]);
    for (const subscription of open) subscription.close();
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
    // Room again once they have left.
    const again = await subscribeSse(app.url, query);
    await vi.waitFor(() => expect(app.server.live.active()).toBe(1), { interval: 5 });
    again.close();
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
  });

  it('disconnects a subscriber that stops reading once its buffer is full, while one that reads goes on', async () => {
    const body = JSON.stringify({ query: EVENTS });
    // A client that sends its subscription and then never reads a byte.
    const accepted = new Promise<Socket>((resolve) =>
      app.server.server.once('connection', (socket: Socket) => resolve(socket)),
    );
    const stalled: Socket = connect(Number(new URL(app.url).port), '127.0.0.1');
    await new Promise((resolve) => stalled.once('connect', resolve));
    // The server's end of it, to see it cut.
    const serverEnd = await accepted;
    const cut = new Promise<void>((resolve) => serverEnd.once('close', () => resolve()));
    stalled.pause();
    stalled.on('error', () => {});
    stalled.write(
      `POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const reading = await subscribeSse(app.url, EVENTS);
    let received = 0;
    const counting = (async () => {
      for (;;) {
        await reading.next();
        received += 1;
      }
    })().catch(() => {});
    await vi.waitFor(() => expect(received).toBe(RECORDS), { interval: 5, timeout: 10_000 });
    expect(app.server.live.active()).toBe(2);

    // Every balance changes at every poll: the stalled client's socket fills, then its buffer.
    const records = data.pik.customers[0]?.records ?? [];
    for (let poll = 1; app.server.live.active() === 2 && poll <= 20; poll += 1) {
      for (const each of records) {
        each.balance = `${poll + 1}.00`;
        each.availableBalance = `${poll + 1}.00`;
      }
      await vi.waitFor(() => expect(app.timers.pending()).toBe(1), { interval: 1 });
      const read = nextRead();
      app.timers.advance(1000);
      await read;
      await vi.waitFor(() => expect(received).toBe(RECORDS * (poll + 1)), {
        interval: 5,
        timeout: 10_000,
      });
    }
    // The stalled client was cut (its connection reset, what the kernel held for it dropped); the
    // reading one still has its subscription and every event.
    expect(app.server.live.active()).toBe(1);
    await cut;
    expect(serverEnd.destroyed).toBe(true);
    expect(received % RECORDS).toBe(0);
    reading.close();
    await counting;
  });

  it('closes the WebSocket of a client that stops reading once its buffer is full', async () => {
    const socket = new WebSocket(app.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: EVENTS } }));
    // The first message has come: from now on the client reads nothing.
    await new Promise((resolve) => socket.once('message', resolve));
    (socket as unknown as { _socket: Socket })._socket.pause();
    await vi.waitFor(() => expect(app.server.live.active()).toBe(1), { interval: 5 });
    const records = data.pik.customers[0]?.records ?? [];
    for (let poll = 1; app.server.live.active() === 1 && poll <= 20; poll += 1) {
      for (const each of records) {
        each.balance = `${100 + poll}.00`;
        each.availableBalance = `${100 + poll}.00`;
      }
      await vi.waitFor(() => expect(app.timers.pending()).toBe(1), { interval: 1 });
      const read = nextRead();
      app.timers.advance(1000);
      await read;
    }
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
    (socket as unknown as { _socket: Socket })._socket.resume();
    await closed;
  });
});
