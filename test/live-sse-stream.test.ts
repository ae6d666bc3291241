import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDemoSandboxData } from '../src/sandbox/demo.js';
import { demoConfigWith } from './helpers/app.js';
import { type LiveApp, startLiveApp } from './helpers/live.js';

const USD_EVENTS =
  'subscription { balanceEvents(currencies: ["USD"]) { kind accountId currency balance { total } } }';

/** A POST over a raw socket, everything the server sends kept as text. */
function rawPost(url: string, body: string, accept = 'text/event-stream') {
  const { hostname, port, pathname } = new URL(url);
  const socket: Socket = connect(Number(port), hostname);
  const received = { text: '', closed: false };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    received.text += chunk;
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => {
      received.closed = true;
      resolve();
    });
  });
  socket.write(
    `POST ${pathname} HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\naccept: ${accept}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return { socket, received, closed };
}

/** The body of a chunked response received so far (its complete chunks), and whether it ended. */
function bodyOf(text: string): { body: string; ended: boolean } {
  let rest = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body = '';
  for (;;) {
    const line = rest.indexOf('\r\n');
    if (line < 0) return { body, ended: false };
    const size = Number.parseInt(rest.slice(0, line), 16);
    if (size === 0) return { body, ended: true };
    if (rest.length < line + 2 + size + 2) return { body, ended: false };
    body += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
}

/** The JSON of every `event: next` block received so far. */
function nextEvents(text: string): { data?: Record<string, unknown>; errors?: unknown[] }[] {
  const { body } = bodyOf(text);
  return [...body.matchAll(/event: next\ndata: (.*)\n\n/g)].map((match) =>
    JSON.parse(match[1] ?? ''),
  );
}

describe('SSE subscriptions: the stream as Yoga writes it, once started', () => {
  let app: LiveApp | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function start(): Promise<LiveApp> {
    app = await startLiveApp({
      data: createDemoSandboxData(),
      kinds: ['pik'],
      configDocument: demoConfigWith({ pollIntervalMs: 1000 }, ['pik']),
    });
    return app;
  }

  it('answers 200 text/event-stream, a ping, then the SNAPSHOT as an `event: next` frame', async () => {
    const { url } = await start();
    const client = rawPost(url, JSON.stringify({ query: USD_EVENTS }));
    await vi.waitFor(() => expect(nextEvents(client.received.text)).toHaveLength(1), {
      interval: 5,
    });
    const [head = ''] = client.received.text.split('\r\n\r\n');
    const { body } = bodyOf(client.received.text);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(head.toLowerCase()).toContain('content-type: text/event-stream');
    expect(head.toLowerCase()).toContain('cache-control: no-cache');
    expect(body.startsWith(':\n\n')).toBe(true);
    expect(nextEvents(client.received.text)[0]).toEqual({
      data: {
        balanceEvents: {
          kind: 'SNAPSHOT',
          accountId: expect.stringMatching(/^pik-main:/),
          currency: 'USD',
          balance: { total: '1500.25' },
        },
      },
    });
    client.socket.destroy();
  });

  it('counts a started subscription in the GraphQL request metrics, under its operation name and 200', async () => {
    const live = await start();
    const client = rawPost(
      live.url,
      JSON.stringify({ query: USD_EVENTS.replace('subscription {', 'subscription Watch {') }),
    );
    await vi.waitFor(() => expect(nextEvents(client.received.text)).toHaveLength(1), {
      interval: 5,
    });
    const metrics = await (await fetch(`${live.server.origin}/metrics`)).text();
    expect(metrics).toContain(
      'balance_api_graphql_requests_total{operation="Watch",status="200"} 1',
    );
    expect(metrics).toMatch(
      /balance_api_graphql_request_duration_seconds_count\{operation="Watch"\} 1\n/,
    );
    client.socket.destroy();
  });

  it('releases the subscription when its client goes', async () => {
    const live = await start();
    const client = rawPost(live.url, JSON.stringify({ query: USD_EVENTS }));
    await vi.waitFor(() => expect(nextEvents(client.received.text)).toHaveLength(1), {
      interval: 5,
    });
    expect(live.server.live.active()).toBe(1);
    client.socket.destroy();
    await vi.waitFor(() => expect(live.server.live.active()).toBe(0), { interval: 5 });
    expect(live.server.live.hub.pollers()).toBe(0);
  });

  it('ends the stream with `event: complete` at shutdown, and the connection closes', async () => {
    const live = await start();
    const client = rawPost(live.url, JSON.stringify({ query: USD_EVENTS }));
    await vi.waitFor(() => expect(nextEvents(client.received.text)).toHaveLength(1), {
      interval: 5,
    });
    await live.server.shutdown();
    await client.closed;
    const { body, ended } = bodyOf(client.received.text);
    expect(ended).toBe(true);
    expect(body.endsWith('event: complete\ndata:\n\n')).toBe(true);
  });

  it('leaves a query asked for as a stream, and a refused subscription, to the GraphQL handler', async () => {
    const { url } = await start();
    const query = rawPost(url, JSON.stringify({ query: '{ providers { id } }' }));
    await vi.waitFor(() => expect(bodyOf(query.received.text).ended).toBe(true), {
      interval: 5,
    });
    expect(nextEvents(query.received.text)).toEqual([
      { data: { providers: [{ id: 'pik-main' }] } },
    ]);
    const refused = rawPost(
      url,
      JSON.stringify({ query: 'subscription { balanceEvents(providerIds: ["nope"]) { kind } }' }),
    );
    await vi.waitFor(() => expect(bodyOf(refused.received.text).ended).toBe(true), {
      interval: 5,
    });
    const [result] = nextEvents(refused.received.text);
    expect(result?.errors).toEqual([
      expect.objectContaining({
        message: expect.stringContaining('item 0: expected the id of one of your providers'),
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    query.socket.destroy();
    refused.socket.destroy();
  });
});
