import { createHash } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { demoConfigDocument } from './helpers/app.js';
import { canaryCredentials, canarySandboxData } from './helpers/canaries.js';
import { type LiveApp, startLiveApp, subscribeWs, wsClient } from './helpers/live.js';
import { type MetricSample, sampleValue, scrape } from './helpers/metrics.js';
import {
  callerContext,
  idOf,
  parentOf,
  spanText,
  traceOf,
  useInMemoryTracing,
} from './helpers/tracing.js';

/**
 * GraphQL operations over graphql-transport-ws are observed as those over HTTP are (CONTRACT.md
 * "Operations: metrics, tracing, reload"): counted in the request metrics under their operation
 * name and status, with a duration, and each one a server span of its own whose provider reads
 * are its children; a subscription's later polls stay traces of their own. The caller's
 * credential from `connection_init` is in no metric and no span.
 */

const CANARY = 'canary7w';
const CREDENTIALS = canaryCredentials(CANARY);
/** The caller's API key, sent only in `connection_init`: itself a canary. */
const KEY = `${CANARY}-caller-key`;
const digest = (key: string) => createHash('sha256').update(key).digest('hex');
/** The caller a subscription is counted against (`callerOf`): in no label or span either. */
const CALLER_ID = createHash('sha256').update(`Bearer ${KEY}`).digest('base64url');

const QUERY = 'query WsProviders { providers { id } }';
const READ = 'query WsSms { provider(id: "sms") { accounts { id } } }';
const SUBSCRIPTION = 'subscription WsEvents { balanceEvents(providerIds: ["sms"]) { kind } }';

/** The demo providers with canary credentials, and the caller's key. */
function canaryConfig(baseUrl: (kind: string) => string) {
  return {
    auth: { apiKeys: [{ tenant: 'default', sha256: digest(KEY) }] },
    providers: demoConfigDocument(baseUrl).providers.map((provider) => ({
      ...provider,
      credentials: CREDENTIALS[provider.id as string],
    })),
  };
}

const startApp = () =>
  startLiveApp({ data: canarySandboxData(CREDENTIALS), configDocument: canaryConfig });

const connect = (app: LiveApp) => wsClient(app.url, { Authorization: `Bearer ${KEY}` }).client;

type Client = ReturnType<typeof connect>;

/** The first result of one operation of `client`, sent with `extensions`; the operation then ends. */
async function first(client: Client, query: string, extensions?: Record<string, unknown>) {
  const iterator = client.iterate({ query, ...(extensions === undefined ? {} : { extensions }) });
  try {
    const result = await iterator.next();
    if (result.done === true) throw new Error(`expected a result of ${query}, received none`);
    return result.value;
  } finally {
    await iterator.return?.();
  }
}

describe('request metrics of WebSocket operations', () => {
  let app: LiveApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app?.close());

  it('counts a query and a subscription once each, under its name and status, with a duration', async () => {
    const client = connect(app);
    const query = subscribeWs(client, QUERY);
    expect((await query.next()).data).toMatchObject({ providers: expect.any(Array) });
    const subscription = subscribeWs(client, SUBSCRIPTION);
    expect((await subscription.next()).data).toEqual({ balanceEvents: { kind: 'SNAPSHOT' } });
    await subscription.close();
    await client.dispose();
    await expect.poll(() => app.server.live.active(), { interval: 5 }).toBe(0);

    const { samples, text } = await scrape(app.server.origin);
    const count = (operation: string) =>
      sampleValue(samples, 'balance_api_graphql_requests_total', { operation, status: '200' });
    const durations = (operation: string) =>
      sampleValue(samples, 'balance_api_graphql_request_duration_seconds_count', { operation });
    expect(count('WsProviders')).toBe(1);
    expect(count('WsEvents')).toBe(1);
    expect(durations('WsProviders')).toBe(1);
    expect(durations('WsEvents')).toBe(1);
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(CALLER_ID);
  });

  const gauge = async () =>
    sampleValue((await scrape(app.server.origin)).samples, 'balance_api_subscriptions');

  it('ends a subscription the client completes at once, not at the next keep-alive, and says nothing more of it', async () => {
    const { socket, message } = await subscribedSocket(app);
    expect(await gauge()).toBe(1);
    socket.send(JSON.stringify({ id: '1', type: 'complete' }));
    await expect.poll(() => app.server.live.active(), { interval: 5, timeout: 2000 }).toBe(0);
    expect(await gauge()).toBe(0);
    // Nothing of the completed operation (no error for the stream it cancelled) before the pong.
    socket.send(JSON.stringify({ type: 'ping' }));
    expect(await message('pong')).toEqual([{ type: 'pong' }]);
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    await closed;
  });

  it('ends the subscriptions of a client that leaves at once', async () => {
    const { socket } = await subscribedSocket(app);
    expect(await gauge()).toBe(1);
    socket.terminate();
    await expect.poll(() => app.server.live.active(), { interval: 5, timeout: 2000 }).toBe(0);
    expect(await gauge()).toBe(0);
  });
});

/**
 * A raw graphql-transport-ws socket of the caller, with SUBSCRIPTION started as operation "1" and
 * its first result read; `message(type)` waits for a message of that type and hands back every
 * message up to it, in order. Started outside NODE_ENV=test, where Yoga's keep-alive comes every
 * 12 s (every 300 ms under it): a stream that ends only at the next one is seen not to end.
 */
async function subscribedSocket(app: LiveApp) {
  const environment = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  const socket = new WebSocket(app.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const waiter of waiters.splice(0)) waiter();
  });
  const message = async (type: string) => {
    for (;;) {
      const found = messages.findIndex((received) => received.type === type);
      if (found >= 0) return messages.splice(0, found + 1);
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  try {
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(
      JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${KEY}` } }),
    );
    await message('connection_ack');
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
    expect((await message('next')).at(-1)?.payload).toEqual({
      data: { balanceEvents: { kind: 'SNAPSHOT' } },
    });
  } finally {
    process.env.NODE_ENV = environment;
  }
  return { socket, message };
}

describe('server spans of WebSocket operations', () => {
  const exporter = useInMemoryTracing();
  let app: LiveApp;

  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(async () => {
    await app?.close();
  });
  const serverSpans = () => exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
  const readSpans = () => exporter.getFinishedSpans().filter((s) => s.name === 'provider read');

  it('gives a query one server span, a trace of its own, with its provider reads under it', async () => {
    const client = connect(app);
    expect((await subscribeWs(client, READ).next()).data).toMatchObject({
      provider: { accounts: expect.any(Array) },
    });
    await client.dispose();
    await expect.poll(() => serverSpans().length, { interval: 5 }).toBe(1);
    const [operation] = serverSpans() as [ReadableSpan];
    expect(operation.name).toBe('query WsSms');
    expect(parentOf(operation)).toBeUndefined();
    expect(operation.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'WsSms',
      'http.response.status_code': 200,
    });
    const reads = readSpans();
    expect(reads.map((read) => read.attributes.provider)).toEqual(['sms']);
    for (const read of reads) {
      expect(parentOf(read)).toBe(idOf(operation));
      expect(traceOf(read)).toBe(traceOf(operation));
    }
  });

  it('gives a subscription one server span; its polls, the first included, are traces of their own', async () => {
    const client = connect(app);
    const subscription = subscribeWs(client, SUBSCRIPTION);
    expect((await subscription.next()).data).toEqual({ balanceEvents: { kind: 'SNAPSHOT' } });
    // The next poll finds nothing new: only its spans tell of it.
    app.timers.advance(30_000);
    await expect.poll(() => readSpans().length, { interval: 5 }).toBe(2);
    await subscription.close();
    await client.dispose();
    await expect.poll(() => app.server.live.active(), { interval: 5 }).toBe(0);
    const [operation, ...others] = serverSpans();
    expect(others).toEqual([]);
    expect(operation?.name).toBe('subscription WsEvents');
    expect(parentOf(operation as ReadableSpan)).toBeUndefined();
    expect(operation?.attributes).toMatchObject({
      'graphql.operation.type': 'subscription',
      'graphql.operation.name': 'WsEvents',
      'http.response.status_code': 200,
    });
    // As over SSE: the hub's polls serve every subscriber alike, so none is the operation's.
    const polls = readSpans();
    expect(new Set(polls.map(traceOf)).size).toBe(polls.length);
    for (const poll of polls) {
      expect(parentOf(poll)).toBeUndefined();
      expect(traceOf(poll)).not.toBe(traceOf(operation as ReadableSpan));
    }
  });

  it("continues the trace an operation's extensions name in traceparent, not one sent in connection_init", async () => {
    const caller = callerContext();
    const socketCaller = callerContext();
    const { client } = wsClient(app.url, {
      Authorization: `Bearer ${KEY}`,
      traceparent: socketCaller.traceparent,
    });
    const result = await first(client, READ, { traceparent: caller.traceparent });
    expect(result.errors).toBeUndefined();
    // Without one in its extensions, an operation of the same socket is a trace of its own.
    expect((await first(client, QUERY)).errors).toBeUndefined();
    await client.dispose();
    await expect.poll(() => serverSpans().length, { interval: 5 }).toBe(2);
    const continued = serverSpans().find((span) => span.name === 'query WsSms') as ReadableSpan;
    expect(traceOf(continued)).toBe(caller.traceId);
    expect(parentOf(continued)).toBe(caller.spanId);
    for (const read of readSpans()) {
      expect(traceOf(read)).toBe(caller.traceId);
      expect(parentOf(read)).toBe(idOf(continued));
    }
    const own = serverSpans().find((span) => span.name === 'query WsProviders') as ReadableSpan;
    expect(parentOf(own)).toBeUndefined();
    const traces = exporter.getFinishedSpans().map(traceOf);
    expect(traces).not.toContain(socketCaller.traceId);
  });

  it('answers an operation whose traceparent is malformed, in a trace of its own', async () => {
    const client = connect(app);
    for (const traceparent of ['00-zz\r\nx-evil: 1', 42, `${callerContext().traceparent}-extra`]) {
      const result = await first(client, READ, { traceparent });
      expect(result.data, String(traceparent)).toMatchObject({
        provider: { accounts: expect.any(Array) },
      });
    }
    await client.dispose();
    await expect.poll(() => serverSpans().length, { interval: 5 }).toBe(3);
    for (const span of serverSpans()) expect(parentOf(span)).toBeUndefined();
  });

  it('counts WebSocket operations once each with tracing on too, a refused one under its status', async () => {
    const before = await scrape(app.server.origin);
    const count = (samples: MetricSample[], operation: string, status: string) =>
      sampleValue(samples, 'balance_api_graphql_requests_total', { operation, status }) ?? 0;
    const client = connect(app);
    expect((await first(client, 'query WsTraced { providers { id } }')).errors).toBeUndefined();
    const refused = await first(
      client,
      'subscription WsRefused { balanceEvents(currencies: ["US D"]) { kind } }',
    );
    expect(refused.errors).toHaveLength(1);
    await client.dispose();
    const after = await scrape(app.server.origin);
    expect(count(after.samples, 'WsTraced', '200') - count(before.samples, 'WsTraced', '200')).toBe(
      1,
    );
    expect(
      count(after.samples, 'WsRefused', '400') - count(before.samples, 'WsRefused', '400'),
    ).toBe(1);
    expect(
      sampleValue(after.samples, 'balance_api_graphql_request_duration_seconds_count', {
        operation: 'WsRefused',
      }),
    ).toBe(1);
    const refusedSpan = serverSpans().find((span) => span.name === 'subscription WsRefused');
    expect(refusedSpan?.attributes['http.response.status_code']).toBe(400);
  });

  it("keeps the caller's credential from connection_init out of every span and metric", async () => {
    const client = connect(app);
    expect((await first(client, READ)).errors).toBeUndefined();
    const subscription = subscribeWs(client, SUBSCRIPTION);
    await subscription.next();
    await subscription.close();
    await client.dispose();
    await expect.poll(() => app.server.live.active(), { interval: 5 }).toBe(0);
    const spans = exporter.getFinishedSpans();
    expect(spans.filter((span) => span.kind === SpanKind.SERVER)).toHaveLength(2);
    for (const span of spans) {
      const text = spanText(span);
      expect(text).not.toContain(CANARY);
      expect(text).not.toContain(CALLER_ID);
    }
    const { text } = await scrape(app.server.origin);
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(CALLER_ID);
  });
});
