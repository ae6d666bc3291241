import { afterEach, describe, expect, it } from 'vitest';
import type { ProviderReadEvent, ProviderStatusView } from '../src/provider-events.js';
import { createProviderReader } from '../src/provider-reader.js';
import { createProviderStatusTracker } from '../src/provider-status.js';
import { createProviderCircuitBreaker } from '../src/upstream/circuit-breaker.js';
import { unusedTransport } from './helpers/adapter.js';
import { balanceCalls, demoConfigWith, startTestApp, type TestApp } from './helpers/app.js';

/** balance-api's clock, moved by hand: the times in a status are exactly these. */
function handClock(start = Date.parse('2026-12-02T10:00:00.000Z')) {
  let at = start;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
    iso: (offsetMs = 0) => new Date(start + offsetMs).toISOString(),
  };
}

const STATUS = `query ($id: ID!) {
  provider(id: $id) {
    status { state circuitOpen lastSuccessAt lastFailureAt lastError { code message retryable at } }
  }
}`;
const ACCOUNTS = `query ($id: ID!) { provider(id: $id) { accounts { id } } }`;
const TREASURY_ACCOUNT = 'treasury:1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5';

interface StatusResult {
  state: string;
  circuitOpen: boolean;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: { code: string; message: string; retryable: boolean; at: string } | null;
}

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function statusOf(current: TestApp, id: string): Promise<StatusResult> {
  const result = await current.query(STATUS, { id });
  expect(result.errors).toBeUndefined();
  return (result.data as { provider: { status: StatusResult } }).provider.status;
}

describe('Provider.status', () => {
  it('is UNKNOWN before the first read, for every provider, and answering it calls no upstream', async () => {
    app = await startTestApp();
    const result = await app.query(
      '{ providers { id status { state circuitOpen lastSuccessAt lastFailureAt lastError { code } } } }',
    );
    expect(result.errors).toBeUndefined();
    const providers = result.data?.providers as { id: string; status: StatusResult }[];
    expect(providers.length).toBeGreaterThan(4);
    for (const provider of providers) {
      expect(provider.status).toEqual({
        state: 'UNKNOWN',
        circuitOpen: false,
        lastSuccessAt: null,
        lastFailureAt: null,
        lastError: null,
      });
    }
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('goes UNKNOWN -> UP -> DOWN -> UP and keeps the last error after a success, at the times of the app clock', async () => {
    const clock = handClock();
    app = await startTestApp({
      now: clock.now,
      configDocument: demoConfigWith({ timeoutMs: 400 }),
    });
    expect((await statusOf(app, 'treasury')).state).toBe('UNKNOWN');

    expect((await app.query(ACCOUNTS, { id: 'treasury' })).errors).toBeUndefined();
    expect(await statusOf(app, 'treasury')).toEqual({
      state: 'UP',
      circuitOpen: false,
      lastSuccessAt: clock.iso(),
      lastFailureAt: null,
      lastError: null,
    });

    clock.advance(1000);
    app.sandbox.setFault('wallet', { type: 'status', status: 500 });
    const failed = await app.query(ACCOUNTS, { id: 'treasury' });
    app.sandbox.clearFaults();
    const clientError = failed.errors?.[0];
    expect(clientError?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const down = await statusOf(app, 'treasury');
    expect(down).toEqual({
      state: 'DOWN',
      circuitOpen: false,
      lastSuccessAt: clock.iso(0),
      lastFailureAt: clock.iso(1000),
      // Worded exactly as the client was told.
      lastError: {
        code: 'UPSTREAM_UNAVAILABLE',
        message: clientError?.message,
        retryable: true,
        at: clock.iso(1000),
      },
    });

    clock.advance(1000);
    expect((await app.query(ACCOUNTS, { id: 'treasury' })).errors).toBeUndefined();
    expect(await statusOf(app, 'treasury')).toEqual({
      state: 'UP',
      circuitOpen: false,
      lastSuccessAt: clock.iso(2000),
      lastFailureAt: clock.iso(1000),
      lastError: down.lastError,
    });
    // The other providers were never read: still UNKNOWN.
    expect((await statusOf(app, 'acquirer')).state).toBe('UNKNOWN');
  });

  it('records a failure that is not retryable as such (auth failed)', async () => {
    const clock = handClock();
    app = await startTestApp({ now: clock.now });
    app.sandbox.setFault('wallet', { type: 'auth-once' });
    const failed = await app.query(ACCOUNTS, { id: 'treasury' });
    expect(failed.errors?.[0]?.extensions?.code).toBe('UPSTREAM_AUTH_FAILED');
    const status = await statusOf(app, 'treasury');
    expect(status.state).toBe('DOWN');
    expect(status.lastSuccessAt).toBeNull();
    expect(status.lastError).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      message: failed.errors?.[0]?.message,
      retryable: false,
      at: clock.iso(),
    });
  });

  it('is DOWN with circuitOpen while the circuit is open, and UP again once a probe succeeds', async () => {
    const clock = handClock();
    app = await startTestApp({
      now: clock.now,
      configDocument: demoConfigWith({
        timeoutMs: 400,
        retry: { maxRetries: 0 },
        circuitBreaker: { failureThreshold: 2, cooldownMs: 10_000 },
      }),
    });
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    if (treasury === undefined) throw new Error('no treasury provider in the demo tenant');
    const changes: ProviderStatusView[] = [];
    treasury.onStatusChange((status) => changes.push(status));

    expect((await app.query(ACCOUNTS, { id: 'treasury' })).errors).toBeUndefined();
    app.sandbox.setFault('wallet', { type: 'status', status: 503 });
    await app.query(ACCOUNTS, { id: 'treasury' });
    expect(await statusOf(app, 'treasury')).toMatchObject({ state: 'DOWN', circuitOpen: false });
    await app.query(ACCOUNTS, { id: 'treasury' });
    expect(await statusOf(app, 'treasury')).toMatchObject({ state: 'DOWN', circuitOpen: true });

    // While open: the provider is not called, and status still answers from memory.
    const callsWhenOpened = balanceCalls(app.sandbox, 'wallet').length;
    app.sandbox.clearFaults();
    const failedFast = await app.query(ACCOUNTS, { id: 'treasury' });
    expect(failedFast.errors?.[0]?.message).toMatch(/not called, failing fast/);
    const open = await statusOf(app, 'treasury');
    expect(open).toMatchObject({ state: 'DOWN', circuitOpen: true });
    expect(open.lastError?.message).toBe(failedFast.errors?.[0]?.message);
    expect(balanceCalls(app.sandbox, 'wallet')).toHaveLength(callsWhenOpened);

    // After the cool-down, on the moved clock, one probe goes through and closes it.
    clock.advance(10_000);
    expect((await app.query(ACCOUNTS, { id: 'treasury' })).errors).toBeUndefined();
    expect(await statusOf(app, 'treasury')).toMatchObject({
      state: 'UP',
      circuitOpen: false,
      lastSuccessAt: clock.iso(10_000),
    });
    expect(balanceCalls(app.sandbox, 'wallet')).toHaveLength(callsWhenOpened + 1);

    // Listeners heard each change of state or circuit, once.
    expect(changes.map((status) => [status.state, status.circuitOpen])).toEqual([
      ['UP', false],
      ['DOWN', false],
      ['DOWN', true],
      ['UP', false],
    ]);
  });

  it('is updated by federated entity lookups', async () => {
    const clock = handClock();
    app = await startTestApp({
      now: clock.now,
      configDocument: demoConfigWith({ timeoutMs: 400 }),
    });
    const ENTITIES = `query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Account { id balances { currency } } }
    }`;
    const representations = [{ __typename: 'Account', id: TREASURY_ACCOUNT }];
    const found = await app.query(ENTITIES, { representations });
    expect(found.errors).toBeUndefined();
    expect(found.data?._entities).toEqual([expect.objectContaining({ id: TREASURY_ACCOUNT })]);
    expect(await statusOf(app, 'treasury')).toMatchObject({
      state: 'UP',
      lastSuccessAt: clock.iso(),
    });

    clock.advance(500);
    app.sandbox.setFault('wallet', { type: 'invalid-json' });
    const failed = await app.query(ENTITIES, { representations });
    expect(failed.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(await statusOf(app, 'treasury')).toMatchObject({
      state: 'DOWN',
      lastFailureAt: clock.iso(500),
      lastError: { code: 'UPSTREAM_BAD_RESPONSE', message: failed.errors?.[0]?.message },
    });
  });

  it('tells read listeners once per upstream read, however many callers shared it', async () => {
    app = await startTestApp({ configDocument: demoConfigWith({ cacheTtlMs: 60_000 }) });
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    if (treasury === undefined) throw new Error('no treasury provider in the demo tenant');
    const events: ProviderReadEvent[] = [];
    const stop = treasury.onRead((event) => events.push(event));
    // Ten concurrent requests share one read; later ones are served by the freshness window.
    await Promise.all(Array.from({ length: 10 }, () => app?.query(ACCOUNTS, { id: 'treasury' })));
    await app.query(ACCOUNTS, { id: 'treasury' });
    expect(balanceCalls(app.sandbox, 'wallet')).toHaveLength(1);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ ok: true, stale: false, currencies: null });

    // A fresh read skips the window: one more upstream read, one more event, joined by callers
    // that ask while it is under way.
    const fresh = await Promise.all([
      treasury.read({ currencies: null, fresh: true }),
      treasury.read({ currencies: null, fresh: true }),
    ]);
    expect(fresh[0]).toBe(fresh[1]);
    expect(balanceCalls(app.sandbox, 'wallet')).toHaveLength(2);
    expect(events).toHaveLength(2);
    stop();
    await treasury.read({ currencies: null, fresh: true });
    expect(events).toHaveLength(2);
  });

  it('is DOWN after a failure that is not an upstream error, worded as the client sees it (masked)', async () => {
    const status = createProviderStatusTracker();
    const events: ProviderReadEvent[] = [];
    status.onRead((event) => events.push(event));
    const at = Date.parse('2026-12-02T10:00:00.000Z');
    const read = createProviderReader({
      adapter: {
        kind: 'wallet',
        capabilities: { currencyFilter: 'many' },
        transport: unusedTransport(),
        fetchAccounts: () =>
          Promise.reject(new TypeError('a defect, with details for the log only')),
      },
      breaker: createProviderCircuitBreaker({
        providerId: 'p',
        failureThreshold: 5,
        cooldownMs: 1,
      }),
      config: { id: 'p', timeoutMs: 1000, maxConcurrency: 1, coalesceReads: true, cacheTtlMs: 0 },
      now: () => at,
      status,
    });
    await expect(read({ currencies: null })).rejects.toThrow('a defect');
    expect(status.view()).toEqual({
      state: 'DOWN',
      circuitOpen: false,
      lastSuccessAt: undefined,
      lastFailureAt: new Date(at),
      lastError: {
        code: 'INTERNAL_SERVER_ERROR',
        message: 'Unexpected error.',
        retryable: false,
        at: new Date(at),
      },
    });
    // Read listeners hear of upstream outcomes only.
    expect(events).toEqual([]);
  });
});
