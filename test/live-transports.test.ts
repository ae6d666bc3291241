import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createDemoConfigDocument, createDemoSandboxData } from '../src/sandbox/demo.js';
import { type LiveApp, startLiveApp, subscribeSse, subscribeWs, wsClient } from './helpers/live.js';

const KEY = 'live-test-key';
const OTHER_KEY = 'other-tenant-key';
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

const SMS_EVENTS = `subscription { balanceEvents(providerIds: ["sms"]) { kind providerId currency balance { total } } }`;

describe('subscriptions over SSE and graphql-transport-ws, with caller authentication', () => {
  let app: LiveApp;

  beforeAll(async () => {
    app = await startLiveApp({
      data: createDemoSandboxData(),
      kinds: ['prepaid'],
      configDocument: (baseUrl) => ({
        auth: {
          apiKeys: [
            { tenant: 'default', sha256: digest(KEY) },
            { tenant: 'globex', sha256: digest(OTHER_KEY) },
          ],
        },
        providers: createDemoConfigDocument(baseUrl, ['prepaid']).providers,
        tenants: [
          {
            id: 'globex',
            providers: createDemoConfigDocument(baseUrl, ['prepaid']).providers.filter(
              (provider) => provider.id === 'voice',
            ),
          },
        ],
      }),
      subscriptions: { maxPerConnection: 2 },
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('delivers SNAPSHOTs over graphql-transport-ws with Authorization in connection_init', async () => {
    const { client } = wsClient(app.url, { Authorization: `Bearer ${KEY}` });
    const subscription = subscribeWs(client, SMS_EVENTS);
    expect(await subscription.next()).toEqual({
      data: {
        balanceEvents: {
          kind: 'SNAPSHOT',
          providerId: 'sms',
          currency: 'CNY',
          balance: { total: '14.3456' },
        },
      },
    });
    await subscription.close();
    await client.dispose();
    // Completing the operation ends its stream on the server.
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
  });

  it('accepts "authorization" in lower case too', async () => {
    const { client } = wsClient(app.url, { authorization: `Bearer ${KEY}` });
    const subscription = subscribeWs(client, SMS_EVENTS);
    expect((await subscription.next()).data).toMatchObject({ balanceEvents: { kind: 'SNAPSHOT' } });
    await subscription.close();
    await client.dispose();
    // Completing the operation ends its stream on the server.
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
  });

  it('closes a socket without credentials with 4401, and one with a wrong key with 4403, before any subscription starts', async () => {
    app.sandbox.clearCalls();
    const missing = wsClient(app.url, {});
    subscribeWs(missing.client, SMS_EVENTS)
      .next()
      .catch(() => {});
    expect((await missing.closedWith).code).toBe(4401);
    const wrong = wsClient(app.url, { Authorization: 'Bearer not-the-key' });
    subscribeWs(wrong.client, SMS_EVENTS)
      .next()
      .catch(() => {});
    expect((await wrong.closedWith).code).toBe(4403);
    expect(app.sandbox.calls()).toHaveLength(0);
    await missing.client.dispose();
    await wrong.client.dispose();
  });

  it('refuses an SSE subscription without credentials with 401 and its challenge', async () => {
    app.sandbox.clearCalls();
    const subscription = await subscribeSse(app.url, SMS_EVENTS);
    expect(subscription.status).toBe(401);
    expect(subscription.headers.get('www-authenticate')).toBe('Bearer realm="balance-api"');
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it("serves each caller its own tenant's providers only: another tenant's id is unknown", async () => {
    const theirs = await subscribeSse(app.url, SMS_EVENTS, undefined, {
      authorization: `Bearer ${OTHER_KEY}`,
    });
    const result = await theirs.next();
    expect(result.errors).toEqual([
      expect.objectContaining({
        message:
          'Subscription.balanceEvents(providerIds:) item 0: expected the id of one of your providers, received "sms"',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    // Over WebSocket too, and the same id of their own tenant is theirs.
    const { client } = wsClient(app.url, { Authorization: `Bearer ${OTHER_KEY}` });
    const refused = subscribeWs(client, SMS_EVENTS);
    expect((await refused.next()).errors).toEqual([
      expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } }),
    ]);
    const own = subscribeWs(
      client,
      'subscription { balanceEvents(providerIds: ["voice"]) { kind providerId currency } }',
    );
    expect((await own.next()).data).toEqual({
      balanceEvents: { kind: 'SNAPSHOT', providerId: 'voice', currency: 'HKD' },
    });
    await own.close();
    await client.dispose();
  });

  it('refuses a bad currency code before the subscription starts, over both transports', async () => {
    const query = 'subscription { balanceEvents(currencies: ["US D"]) { kind } }';
    const sse = await subscribeSse(app.url, query, undefined, { authorization: `Bearer ${KEY}` });
    expect(sse.status).toBe(400);
    const message =
      'Subscription.balanceEvents(currencies:) item 0: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-", received "US D"';
    expect((await sse.next()).errors).toEqual([expect.objectContaining({ message })]);
    const { client } = wsClient(app.url, { Authorization: `Bearer ${KEY}` });
    expect((await subscribeWs(client, query).next()).errors).toEqual([
      expect.objectContaining({ message }),
    ]);
    await client.dispose();
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
  });

  it('caps subscriptions per connection (server.subscriptions.maxPerConnection)', async () => {
    const { client } = wsClient(app.url, { Authorization: `Bearer ${KEY}` });
    const first = subscribeWs(client, SMS_EVENTS);
    const second = subscribeWs(client, SMS_EVENTS);
    await first.next();
    await second.next();
    const third = subscribeWs(client, SMS_EVENTS);
    expect((await third.next()).errors).toEqual([
      expect.objectContaining({
        message:
          'Too many subscriptions on this connection: at most 2 at once (server.subscriptions.maxPerConnection).',
        extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' },
      }),
    ]);
    // Another connection of the same caller may still subscribe.
    const sse = await subscribeSse(app.url, SMS_EVENTS, undefined, {
      authorization: `Bearer ${KEY}`,
    });
    expect((await sse.next()).data).toMatchObject({ balanceEvents: { kind: 'SNAPSHOT' } });
    sse.close();
    await first.close();
    await second.close();
    await client.dispose();
    await vi.waitFor(() => expect(app.server.live.active()).toBe(0), { interval: 5 });
  });

  it('ends every subscription when the server drains: SSE streams end, WebSockets close with 1001', async () => {
    const own = await startLiveApp({ data: createDemoSandboxData(), kinds: ['prepaid'] });
    const sse = await subscribeSse(own.url, SMS_EVENTS);
    await sse.next();
    const socket = new WebSocket(own.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => socket.once('message', resolve));
    const outcome = own.server.shutdown();
    await sse.ended;
    expect(await closed).toBe(1001);
    expect(await outcome).toEqual({ destroyed: 0 });
    expect(own.server.live.active()).toBe(0);
    await own.close();
  });

  it('answers a WebSocket upgrade on another path with 404', async () => {
    const own = await startLiveApp({ data: createDemoSandboxData(), kinds: ['prepaid'] });
    const statusOf = (path: string) =>
      new Promise<number>((resolve) => {
        const socket = new WebSocket(
          `${own.url.replace(/^http/, 'ws').replace('/graphql', path)}`,
          'graphql-transport-ws',
        );
        socket.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.once('error', () => resolve(-1));
      });
    expect(await statusOf('/healthz')).toBe(404);
    expect(await statusOf('/nothing')).toBe(404);
    await own.close();
  });
});
