import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createProviderReader, MAX_CACHED_SHAPES } from '../src/provider-reader.js';
import type { NormalizedAccount } from '../src/providers/adapter.js';
import { parseSandboxFault } from '../src/sandbox/faults.js';
import { createProviderCircuitBreaker } from '../src/upstream/circuit-breaker.js';
import { unusedTransport } from './helpers/adapter.js';
import {
  BUILT_IN_KINDS,
  balanceCalls,
  DASHBOARD_QUERY,
  demoConfigDocument,
  demoConfigWith,
  startTestApp,
  type TestApp,
} from './helpers/app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const KINDS = BUILT_IN_KINDS;
const PIK = '{ provider(id: "pik-main") { accounts { id balances { fetchedAt } } } }';

/** A warmed-up app (logins done) whose sandbox answers after `latencyMs`, so reads overlap. */
async function warmApp(extra: Record<string, unknown>, latencyMs = 60) {
  app = await startTestApp({ configDocument: demoConfigWith(extra), latencyMs });
  await app.query(DASHBOARD_QUERY);
  app.sandbox.clearCalls();
  return app;
}

describe('cross-request coalescing', () => {
  it('20 concurrent dashboards share one read of each provider', async () => {
    const current = await warmApp({});
    const results = await Promise.all(
      Array.from({ length: 20 }, () => current.query(DASHBOARD_QUERY)),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    // One read per kind, but prepaid has two providers (sms and voice): two reads there.
    expect(KINDS.map((kind) => balanceCalls(current.sandbox, kind).length)).toEqual([
      1, 1, 1, 1, 2,
    ]);
    // Every answer carries the one read's time.
    const times = new Set(
      results.map((result) => JSON.stringify(result.data).match(/"fetchedAt":"([^"]+)"/)?.[1]),
    );
    expect(times.size).toBe(1);
  });

  it('are off when coalesceReads is false: each request reads', async () => {
    const current = await warmApp({ coalesceReads: false });
    await Promise.all(Array.from({ length: 5 }, () => current.query(PIK)));
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(5);
  });

  it('only identical shapes share: two single currencies are two reads, and a narrow read joins a whole one', async () => {
    const current = await warmApp({});
    await Promise.all([
      current.query('{ provider(id: "pik-main") { balances(currencies: ["USD"]) { total } } }'),
      current.query('{ provider(id: "pik-main") { balances(currencies: ["EUR"]) { total } } }'),
    ]);
    expect(
      balanceCalls(current.sandbox, 'pik')
        .map((call) => call.path)
        .sort(),
    ).toEqual(['/api/v1/balance/EUR', '/api/v1/balance/USD']);
    current.sandbox.clearCalls();
    // The narrow read is asked for once the whole one has reached the provider.
    const arrived = once(current.sandbox.server, 'request');
    const whole = current.query(PIK);
    await arrived;
    const narrow = await current.query(
      '{ provider(id: "pik-main") { balances(currencies: ["USD"]) { total } } }',
    );
    await whole;
    expect(narrow.errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.path)).toEqual([
      '/api/v1/balance/list',
    ]);
  });

  it('share an error only with the calls that waited on it', async () => {
    const current = await warmApp({});
    current.sandbox.setFault('pik', parseSandboxFault('500x1'));
    const failed = await Promise.all(Array.from({ length: 5 }, () => current.query(PIK)));
    for (const result of failed)
      expect(result.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);
    // The next request reads afresh and succeeds.
    expect((await current.query(PIK)).errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([500, 200]);
  });

  it('never across tenants, even with the same upstream and credentials', async () => {
    const key = (name: string) => createHash('sha256').update(name).digest('hex');
    app = await startTestApp({
      latencyMs: 60,
      configDocument: (baseUrl) => {
        const providers = demoConfigDocument(baseUrl).providers.filter((p) => p.id === 'pik-main');
        return {
          auth: {
            apiKeys: [
              { tenant: 'a', sha256: key('key-a') },
              { tenant: 'b', sha256: key('key-b') },
            ],
          },
          tenants: [
            { id: 'a', providers },
            { id: 'b', providers },
          ],
        };
      },
    });
    const current = app;
    const as = (name: string) => ({ authorization: `Bearer ${name}` });
    await Promise.all([
      current.query(PIK, undefined, as('key-a')),
      current.query(PIK, undefined, as('key-b')),
    ]);
    current.sandbox.clearCalls();
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        current.query(PIK, undefined, as(index % 2 ? 'key-a' : 'key-b')),
      ),
    );
    const tokens = balanceCalls(current.sandbox, 'pik').map((call) => call.headers.authorization);
    expect(tokens).toHaveLength(2);
    expect(new Set(tokens).size).toBe(2);
  });
});

describe('a freshness window (cacheTtlMs)', () => {
  it('serves reads within the window from the last read, with its true fetchedAt', async () => {
    const current = await warmApp({ cacheTtlMs: 400 }, 0);
    // Past the window of the warm-up's reads, on balance-api's clock.
    current.sandbox.clock.advance(450);
    current.sandbox.clearCalls();
    const first = await current.query(PIK);
    const second = await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);
    expect(JSON.stringify(second.data)).toBe(JSON.stringify(first.data));
    current.sandbox.clock.advance(450);
    const third = await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(2);
    expect(JSON.stringify(third.data)).not.toBe(JSON.stringify(first.data));
  });

  it('is off by default', async () => {
    const current = await warmApp({}, 0);
    await current.query(PIK);
    await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(2);
  });

  it('is skipped by a fresh read (a subscription poll), which joins a read under way and renews the window', async () => {
    const current = await warmApp({ cacheTtlMs: 60_000 });
    const pik = current.runtime.tenants.get('default')?.byId.get('pik-main');
    if (pik === undefined) throw new Error('no pik-main provider in the demo tenant');
    const cached = await pik.read({ currencies: null });
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(0);

    current.sandbox.clock.advance(1000);
    // Two polls and a narrower poll while the first is under way: one upstream read.
    const [first, second, narrow] = await Promise.all([
      pik.read({ currencies: null, fresh: true }),
      pik.read({ currencies: null, fresh: true }),
      pik.read({ currencies: ['USD'], fresh: true }),
    ]);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);
    expect(second).toBe(first);
    expect(narrow).toBe(first);
    expect(first.fetchedAt.getTime()).toBeGreaterThan(cached.fetchedAt.getTime());

    // An ordinary read within the window now gets the fresh one.
    expect(await pik.read({ currencies: null })).toBe(first);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);
  });
});

describe('the concurrency cap of each provider (maxConcurrency)', () => {
  it('never lets more than N reads reach a provider at once; the rest wait their turn', async () => {
    const current = await warmApp({ coalesceReads: false, maxConcurrency: 2 }, 80);
    const results = await Promise.all(Array.from({ length: 10 }, () => current.query(PIK)));
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(10);
    expect(current.sandbox.stats().pik?.maxConcurrent).toBe(2);
  });

  it('bounds the wait by the deadline', async () => {
    const current = await warmApp({ coalesceReads: false, maxConcurrency: 1, timeoutMs: 500 }, 300);
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 4 }, () => current.query(PIK)));
    // Every request is answered by its deadline, whether it read or waited in vain.
    expect(performance.now() - started).toBeLessThan(500 + 1000);
    const codes = results.map((result) => result.errors?.[0]?.extensions?.code ?? 'ok');
    expect(codes).toContain('ok');
    expect(codes).toContain('UPSTREAM_TIMEOUT');
    expect(current.sandbox.stats().pik?.maxConcurrent).toBe(1);
  });

  it('says so when a read waited for a slot until its deadline', async () => {
    // The reader alone, around an adapter whose reads never end: what is queued is what waits.
    const never = new Promise<never>(() => {});
    const read = createProviderReader({
      adapter: {
        kind: 'pik',
        capabilities: { currencyFilter: 'one' },
        transport: unusedTransport(),
        fetchAccounts: () => never,
      },
      breaker: createProviderCircuitBreaker({
        providerId: 'p',
        failureThreshold: 100,
        cooldownMs: 1,
      }),
      config: { id: 'p', timeoutMs: 100, maxConcurrency: 1, coalesceReads: false, cacheTtlMs: 0 },
    });
    const holding = read({ currencies: null }).catch((error: Error) => error.message);
    const waiting = read({ currencies: ['USD'] }).catch((error: Error) => error.message);
    expect(await waiting).toBe(
      'p: no answer within 100 ms (waited for one of its 1 concurrent reads)',
    );
    expect(await holding).toBe('p: no answer within 100 ms');
  });
});

describe('the freshness window', () => {
  it('keeps a bounded number of read shapes, however many currency sets clients send', async () => {
    const read = createProviderReader({
      adapter: {
        kind: 'wallet',
        capabilities: { currencyFilter: 'many' },
        transport: unusedTransport(),
        fetchAccounts: async () => [],
      },
      breaker: createProviderCircuitBreaker({
        providerId: 'p',
        failureThreshold: 100,
        cooldownMs: 1,
      }),
      config: {
        id: 'p',
        timeoutMs: 1000,
        maxConcurrency: 4,
        coalesceReads: false,
        cacheTtlMs: 60_000,
      },
    });
    for (let i = 0; i < MAX_CACHED_SHAPES * 3; i += 1) {
      await read({ currencies: [`C${i}`] });
      // The remembering happens once the read has settled.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(read.cachedShapes()).toBe(MAX_CACHED_SHAPES);
  });
});

describe("a read's deadline", () => {
  it('stops the calls of a read under way, through the signal the adapter is given', async () => {
    const seen: { reason?: unknown } = {};
    const read = createProviderReader({
      adapter: {
        kind: 'pik',
        capabilities: { currencyFilter: 'one' },
        transport: unusedTransport(),
        // Ends only when its signal says so, as an upstream call does.
        fetchAccounts: (query) =>
          new Promise((_, reject) =>
            query.signal?.addEventListener('abort', () => {
              seen.reason = query.signal?.reason;
              reject(new Error('stopped by the signal'));
            }),
          ),
      },
      breaker: createProviderCircuitBreaker({
        providerId: 'p',
        failureThreshold: 100,
        cooldownMs: 1,
      }),
      config: { id: 'p', timeoutMs: 100, maxConcurrency: 1, coalesceReads: false, cacheTtlMs: 0 },
    });
    // The adapter's own end, not the reader's backstop 250 ms later.
    await expect(read({ currencies: null })).rejects.toThrow('stopped by the signal');
    expect(seen.reason).toMatchObject({ name: 'TimeoutError' });
  });
});

describe('the concurrency cap under overload', () => {
  it('keeps serving after queued reads gave up: slots are not lost to callers that left', async () => {
    // The breaker is kept out of it: reads that start late and time out would open it.
    const current = await warmApp(
      {
        coalesceReads: false,
        maxConcurrency: 1,
        timeoutMs: 300,
        circuitBreaker: { failureThreshold: 1000 },
      },
      100,
    );
    // Ten at once: a few are read, the rest give up waiting at their deadline.
    const first = await Promise.all(Array.from({ length: 10 }, () => current.query(PIK)));
    expect(first.some((result) => result.errors !== undefined)).toBe(true);
    // Five more right after: the queue must still move, one read at a time.
    const second = await Promise.all(Array.from({ length: 5 }, () => current.query(PIK)));
    const served = second.filter((result) => result.errors === undefined).length;
    expect(served).toBeGreaterThanOrEqual(2);
  });
});

describe('a read that waited for a slot', () => {
  it('keeps its own deadline, not that of the read that freed the slot', async () => {
    // A (whose request has 150 ms left) holds the only slot; B (its own 10 s) waits for it, and C
    // (A's deadline) waits behind B. A answers, B gets the slot, and B answers only once C has
    // given up, after A's deadline: under A's deadline instead of its own, B would be stopped.
    const calls = new Map<string, Deferred<(accounts: NormalizedAccount[]) => void>>(
      ['A', 'B', 'C'].map((currency) => [currency, deferred()]),
    );
    const read = createProviderReader({
      adapter: {
        kind: 'wallet',
        capabilities: { currencyFilter: 'many' },
        transport: unusedTransport(),
        fetchAccounts: (query) =>
          new Promise((resolve, reject) => {
            const currency = query.currencies?.[0] ?? '*';
            query.signal?.addEventListener('abort', () =>
              reject(new Error(`${currency} was stopped by its deadline`)),
            );
            calls.get(currency)?.resolve(resolve);
          }),
      },
      breaker: createProviderCircuitBreaker({
        providerId: 'p',
        failureThreshold: 100,
        cooldownMs: 1,
      }),
      config: {
        id: 'p',
        timeoutMs: 10_000,
        maxConcurrency: 1,
        coalesceReads: false,
        cacheTtlMs: 0,
      },
    });
    const soon = performance.now() + 150;
    const a = read({ currencies: ['A'], deadlineAt: soon });
    const b = read({ currencies: ['B'] });
    const c = read({ currencies: ['C'], deadlineAt: soon }).catch((error: Error) => error.message);
    (await calls.get('A')?.promise)?.([]);
    expect((await a).accounts).toEqual([]);
    const answerB = await calls.get('B')?.promise;
    expect(await c).toBe('p: no answer within 10000 ms (waited for one of its 1 concurrent reads)');
    answerB?.([]);
    expect((await b).accounts).toEqual([]);
  });
});

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
