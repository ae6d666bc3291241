import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import type { ProviderReadEvent } from '../src/provider-events.js';
import { MAX_CACHED_SHAPES } from '../src/provider-reader.js';
import { PROVIDER_KINDS, type ProviderKind } from '../src/providers/kinds.js';
import { createDemoSandboxData } from '../src/sandbox/demo.js';
import type { SandboxFault } from '../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import {
  BUILT_IN_KINDS,
  balanceCalls,
  demoConfigDocument,
  demoConfigWith,
  type GraphQLResult,
  startTestApp,
  type TestApp,
} from './helpers/app.js';

/** balance-api's clock, moved by hand: windows expire exactly when the tests say. */
function handClock(start = Date.parse('2026-12-02T10:00:00.000Z')) {
  let at = start;
  return {
    now: () => at,
    advance: (ms: number) => {
      at += ms;
    },
    iso: () => new Date(at).toISOString(),
  };
}

const TIMEOUT_MS = 400;
const WINDOW_MS = 60_000;

/**
 * The faults of test/fault-matrix.test.ts, with the code each ends in; `recovers` for the kinds
 * that log in again once and answer (no failure, so nothing stale either).
 */
const FAULTS: { name: string; fault: SandboxFault; code: string; recovers?: ProviderKind[] }[] = [
  { name: '503', fault: { type: 'status', status: 503 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: '500', fault: { type: 'status', status: 500 }, code: 'UPSTREAM_UNAVAILABLE' },
  { name: 'hang', fault: { type: 'hang' }, code: 'UPSTREAM_TIMEOUT' },
  { name: 'reset', fault: { type: 'reset' }, code: 'UPSTREAM_UNAVAILABLE' },
  {
    name: 'reset in the middle of the body',
    fault: { type: 'reset-body' },
    code: 'UPSTREAM_UNAVAILABLE',
  },
  { name: 'truncated body', fault: { type: 'truncated' }, code: 'UPSTREAM_BAD_RESPONSE' },
  { name: 'invalid JSON', fault: { type: 'invalid-json' }, code: 'UPSTREAM_BAD_RESPONSE' },
  {
    name: '429 with a Retry-After beyond the cap',
    fault: { type: 'rate-limit', retryAfterSeconds: 30 },
    code: 'UPSTREAM_RATE_LIMITED',
  },
  {
    name: 'auth failing once',
    fault: { type: 'auth-once' },
    code: 'UPSTREAM_AUTH_FAILED',
    recovers: ['pik', 'asset-accounts', 'merchant'],
  },
];

const DASHBOARD = `{
  providers { id accounts { id balances { currency network total available stale fetchedAt } } }
  totals { complete missingProviders staleProviders currencies { currency total available } }
}`;

const DEMO_PROVIDERS = demoConfigDocument(() => 'http://unused.test').providers;
const ALL_IDS = DEMO_PROVIDERS.map((provider) => provider.id as string);
const idsOf = (kind: ProviderKind) =>
  DEMO_PROVIDERS.filter((provider) => provider.kind === kind).map((p) => p.id as string);

interface BalanceResult {
  currency: string;
  total: string;
  stale: boolean;
  fetchedAt: string;
}
interface ProviderResult {
  id: string;
  accounts: { id: string; balances: BalanceResult[] }[] | null;
}
interface TotalsResult {
  complete: boolean;
  missingProviders: string[];
  staleProviders: string[];
  currencies: { currency: string; total: string; available: string }[];
}

const providersOf = (result: GraphQLResult) => result.data?.providers as ProviderResult[];
const totalsOf = (result: GraphQLResult) => result.data?.totals as TotalsResult;

/** Every balance of a dashboard result's provider. */
function balancesOf(result: GraphQLResult, id: string): BalanceResult[] {
  const provider = providersOf(result).find((candidate) => candidate.id === id);
  return (provider?.accounts ?? []).flatMap((account) => account.balances);
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ data: createDemoSandboxData() });
});
afterAll(() => sandbox.close());
afterEach(() => sandbox.clearFaults());

/** A balance-api on the shared sandbox with every provider's settings extended by `extra`. */
function appWith(clock: { now: () => number }, extra: Record<string, unknown>) {
  return startTestApp({
    sandbox,
    now: clock.now,
    configDocument: demoConfigWith({
      timeoutMs: TIMEOUT_MS,
      // The matrix fails each provider many times; the breaker is tested on its own below.
      circuitBreaker: { failureThreshold: 1000 },
      ...extra,
    }),
  });
}

/** Sets a fault of `kind`, as the fault matrix does (each prepaid provider meets auth once). */
function setFault(kind: ProviderKind, fault: SandboxFault): void {
  sandbox.setFault(
    kind,
    fault.type === 'auth-once' && kind === 'prepaid' ? { ...fault, times: 2 } : fault,
  );
}

describe('stale-if-error across the fault matrix', () => {
  // The sandbox's clock (real time plus what the tests add): one-time passwords need both sides
  // to agree on the time.
  const clock = {
    now: () => sandbox.clock.now(),
    advance: (ms: number) => sandbox.clock.advance(ms),
    iso: () => new Date(sandbox.clock.now()).toISOString(),
  };
  let on: TestApp;
  let off: TestApp;
  beforeAll(async () => {
    on = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    off = await appWith(clock, {});
  });
  afterAll(async () => {
    await on.close();
    await off.close();
  });

  for (const kind of BUILT_IN_KINDS) {
    for (const { name, fault, code, recovers } of FAULTS) {
      const failing = recovers?.includes(kind) ? [] : idsOf(kind);

      it(`${kind} × ${name}: a recent read answers, marked stale with its own fetchedAt`, async () => {
        const before = clock.iso();
        const warm = await on.query(DASHBOARD);
        expect(warm.errors).toBeUndefined();
        for (const id of ALL_IDS) {
          for (const balance of balancesOf(warm, id)) {
            expect(balance.stale).toBe(false);
            expect(balance.fetchedAt >= before).toBe(true);
          }
        }
        clock.advance(1000);
        const failedFrom = clock.iso();
        setFault(kind, fault);
        const result = await on.query(DASHBOARD);
        sandbox.clearFaults();

        expect(result.errors).toBeUndefined();
        for (const id of ALL_IDS) {
          const balances = balancesOf(result, id);
          expect(balances.length).toBeGreaterThan(0);
          if (failing.includes(id)) {
            // The earlier read, exactly, and said to be one.
            expect(balances).toEqual(
              balancesOf(warm, id).map((balance) => ({ ...balance, stale: true })),
            );
          } else {
            for (const balance of balances) {
              expect(balance.stale).toBe(false);
              expect(balance.fetchedAt >= failedFrom).toBe(true);
            }
          }
        }
        const totals = totalsOf(result);
        expect(totals).toMatchObject({
          complete: true,
          missingProviders: [],
          staleProviders: failing,
        });
        // Counted: the same sums as before the fault.
        expect(totals.currencies).toEqual(totalsOf(warm).currencies);

        // The failure is in the status all the same.
        for (const id of failing) {
          const status = on.runtime.tenants.get('default')?.byId.get(id)?.status();
          expect(status?.state).toBe('DOWN');
          expect(status?.lastError?.code).toBe(code);
          expect((status?.lastFailureAt?.toISOString() ?? '') >= failedFrom).toBe(true);
        }
      });

      it(`${kind} × ${name}: with nothing recent enough, the error model is unchanged`, async () => {
        expect((await on.query(DASHBOARD)).errors).toBeUndefined();
        // Just past the window.
        clock.advance(WINDOW_MS + 1);
        setFault(kind, fault);
        const result = await on.query(DASHBOARD);
        sandbox.clearFaults();
        expectErrorModel(result, failing, code);
      });

      it(`${kind} × ${name}: with staleIfErrorMs 0 (the default), the error model is unchanged`, async () => {
        expect((await off.query(DASHBOARD)).errors).toBeUndefined();
        clock.advance(1000);
        setFault(kind, fault);
        const result = await off.query(DASHBOARD);
        sandbox.clearFaults();
        expectErrorModel(result, failing, code);
      });
    }
  }

  it('a provider never read before has nothing to serve: the error model', async () => {
    const fresh = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    try {
      setFault('wallet', { type: 'status', status: 503 });
      expectErrorModel(await fresh.query(DASHBOARD), ['treasury'], 'UPSTREAM_UNAVAILABLE');
    } finally {
      await fresh.close();
    }
  });
});

/** Each failing provider's fields null with one error each; totals incomplete, nothing stale. */
function expectErrorModel(result: GraphQLResult, failing: string[], code: string): void {
  expect((result.errors ?? []).map((error) => error.extensions?.providerId).sort()).toEqual(
    [...failing].sort(),
  );
  for (const error of result.errors ?? []) expect(error.extensions?.code).toBe(code);
  for (const provider of providersOf(result)) {
    if (failing.includes(provider.id)) expect(provider.accounts).toBeNull();
    else for (const balance of balancesOf(result, provider.id)) expect(balance.stale).toBe(false);
  }
  expect(totalsOf(result)).toMatchObject({
    complete: failing.length === 0,
    missingProviders: failing,
    staleProviders: [],
  });
}

const TREASURY = `query ($currencies: [String!]) {
  provider(id: "treasury") { balances(currencies: $currencies) { currency total stale fetchedAt } }
}`;

describe('stale-if-error for one provider', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** The treasury balances of one query with `currencies`, during a 503 of the wallet simulator. */
  async function duringFault(current: TestApp, currencies?: string[]) {
    setFault('wallet', { type: 'status', status: 503 });
    try {
      return await current.query(TREASURY, { currencies });
    } finally {
      sandbox.clearFaults();
    }
  }
  const balances = (result: GraphQLResult) =>
    (result.data as { provider: { balances: BalanceResult[] | null } }).provider.balances;

  it('serves a read exactly staleIfErrorMs old, and not one a millisecond older (the app clock)', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: 5000 });
    const warm = await app.query(TREASURY, {});
    const readAt = clock.iso();
    clock.advance(5000);
    const served = await duringFault(app);
    expect(served.errors).toBeUndefined();
    expect(balances(served)).toEqual(
      balances(warm)?.map((balance) => ({ ...balance, stale: true, fetchedAt: readAt })),
    );
    clock.advance(1);
    const refused = await duringFault(app);
    expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(balances(refused)).toBeNull();
  });

  it('a read of every currency serves a narrower question', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    expect((await app.query(TREASURY, {})).errors).toBeUndefined();
    clock.advance(1000);
    const narrow = await duringFault(app, ['btc', 'XRP']);
    expect(narrow.errors).toBeUndefined();
    expect(balances(narrow)?.map((balance) => [balance.currency, balance.stale])).toEqual([
      ['BTC', true],
      ['XRP', true],
    ]);
  });

  it('a narrower read serves its own currencies and fewer, never more', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    // The wallet kind narrows a read to the currencies asked for: this read covers just two.
    expect((await app.query(TREASURY, { currencies: ['BTC', 'XRP'] })).errors).toBeUndefined();
    clock.advance(1000);

    for (const currencies of [['XRP', 'btc'], ['BTC'], ['xrp']]) {
      const served = await duringFault(app, currencies);
      expect(served.errors).toBeUndefined();
      expect(balances(served)?.every((balance) => balance.stale)).toBe(true);
      expect(
        balances(served)
          ?.map((balance) => balance.currency)
          .sort(),
      ).toEqual(currencies.map((code) => code.toUpperCase()).sort());
    }
    for (const currencies of [undefined, ['BTC', 'ETH'], ['USDT']]) {
      const refused = await duringFault(app, currencies);
      expect(refused.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(balances(refused)).toBeNull();
    }
  });

  it('is served while the circuit is open, without calling the provider', async () => {
    const clock = handClock();
    app = await appWith(clock, {
      staleIfErrorMs: WINDOW_MS,
      retry: { maxRetries: 0 },
      circuitBreaker: { failureThreshold: 1, cooldownMs: 30_000 },
    });
    const warm = await app.query(TREASURY, {});
    clock.advance(1000);
    const first = await duringFault(app);
    expect(first.errors).toBeUndefined();
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    expect(treasury?.status()).toMatchObject({ state: 'DOWN', circuitOpen: true });

    const calls = balanceCalls(sandbox, 'wallet').length;
    clock.advance(1000);
    const whileOpen = await app.query(TREASURY, {});
    expect(whileOpen.errors).toBeUndefined();
    expect(balances(whileOpen)).toEqual(
      balances(warm)?.map((balance) => ({ ...balance, stale: true })),
    );
    expect(balanceCalls(sandbox, 'wallet')).toHaveLength(calls);
    expect(treasury?.status().lastError?.message).toMatch(/not called, failing fast/);
  });

  it('tells read listeners of the failure, then of the stale answer', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    if (treasury === undefined) throw new Error('no treasury provider in the demo tenant');
    await app.query(TREASURY, {});
    const readAt = clock.now();
    const events: ProviderReadEvent[] = [];
    treasury.onRead((event) => events.push(event));
    clock.advance(1000);
    await duringFault(app);
    expect(events.map((event) => [event.ok, event.ok ? event.stale : event.error.code])).toEqual([
      [false, 'UPSTREAM_UNAVAILABLE'],
      [true, true],
    ]);
    const stale = events[1];
    expect(stale?.ok && stale.read.fetchedAt.getTime()).toBe(readAt);
    expect(stale?.ok && stale.read.stale).toBe(true);
  });

  it(`keeps at most ${MAX_CACHED_SHAPES} currency sets, the least recently read going first`, async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    const sets = Array.from({ length: MAX_CACHED_SHAPES + 8 }, (_, index) => [`C${index}`]);
    for (const currencies of sets) {
      expect((await app.query(TREASURY, { currencies })).errors).toBeUndefined();
    }
    expect(treasury?.read.staleShapes()).toBe(MAX_CACHED_SHAPES);
    clock.advance(1000);
    expect((await duringFault(app, sets.at(-1))).errors).toBeUndefined();
    expect((await duringFault(app, sets[0])).errors?.[0]?.extensions?.code).toBe(
      'UPSTREAM_UNAVAILABLE',
    );
    expect(treasury?.read.staleShapes()).toBe(MAX_CACHED_SHAPES);
  });

  it('answers every caller of one failed read the same, from one upstream read', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS, retry: { maxRetries: 0 } });
    const warm = await app.query(TREASURY, {});
    clock.advance(1000);
    const calls = balanceCalls(sandbox, 'wallet').length;
    setFault('wallet', { type: 'status', status: 503 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => app?.query(TREASURY, {}) as Promise<GraphQLResult>),
    );
    sandbox.clearFaults();
    expect(balanceCalls(sandbox, 'wallet')).toHaveLength(calls + 1);
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(balances(result)).toEqual(
        balances(warm)?.map((balance) => ({ ...balance, stale: true })),
      );
    }
  });

  it('never keeps a stale answer in the freshness window: the next read goes upstream', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS, cacheTtlMs: 1000 });
    await app.query(TREASURY, {});
    clock.advance(1001);
    expect(balances(await duringFault(app))?.[0]?.stale).toBe(true);
    const calls = balanceCalls(sandbox, 'wallet').length;
    const next = await app.query(TREASURY, {});
    expect(balanceCalls(sandbox, 'wallet')).toHaveLength(calls + 1);
    expect(balances(next)?.every((balance) => !balance.stale)).toBe(true);
    expect(balances(next)?.[0]?.fetchedAt).toBe(clock.iso());
  });

  it('answers federated entity lookups too, their balances marked stale', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: WINDOW_MS });
    const ENTITIES = `query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Account { id balances { currency stale fetchedAt } } }
    }`;
    const id = 'treasury:1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5';
    const representations = [{ __typename: 'Account', id }];
    const warm = await app.query(ENTITIES, { representations });
    expect(warm.errors).toBeUndefined();
    clock.advance(1000);
    setFault('wallet', { type: 'invalid-json' });
    const result = await app.query(ENTITIES, { representations });
    sandbox.clearFaults();
    expect(result.errors).toBeUndefined();
    const [account] = (result.data as { _entities: { id: string; balances: BalanceResult[] }[] })
      ._entities;
    expect(account?.id).toBe(id);
    expect(account?.balances.length).toBeGreaterThan(0);
    for (const balance of account?.balances ?? []) {
      expect(balance).toMatchObject({ stale: true, fetchedAt: handClock().iso() });
    }
    expect(app.runtime.tenants.get('default')?.byId.get('treasury')?.status().state).toBe('DOWN');
  });

  it('drops what the window no longer serves', async () => {
    const clock = handClock();
    app = await appWith(clock, { staleIfErrorMs: 5000 });
    const treasury = app.runtime.tenants.get('default')?.byId.get('treasury');
    await app.query(TREASURY, { currencies: ['BTC'] });
    await app.query(TREASURY, { currencies: ['XRP'] });
    expect(treasury?.read.staleShapes()).toBe(2);
    clock.advance(5001);
    await duringFault(app, ['ETH']);
    expect(treasury?.read.staleShapes()).toBe(0);
  });
});

describe('the configuration of every kind', () => {
  const document = (extra: Record<string, unknown>) => ({
    providers: demoConfigDocument(
      (kind) => `http://127.0.0.1:9/${kind}`,
      PROVIDER_KINDS,
    ).providers.map((provider) => ({ ...provider, ...extra })),
  });
  const parse = (extra: Record<string, unknown>) =>
    parseConfig(document(extra), { source: 'test', env: {}, baseDir: process.cwd() });

  it('defaults staleIfErrorMs to 0 (off) and pollIntervalMs to 30000', () => {
    const providers = parse({}).tenants.flatMap((tenant) => tenant.providers);
    expect(new Set(providers.map((provider) => provider.kind))).toEqual(new Set(PROVIDER_KINDS));
    for (const provider of providers) {
      expect(provider).toMatchObject({ staleIfErrorMs: 0, pollIntervalMs: 30_000 });
    }
    const set = parse({ staleIfErrorMs: 120_000, pollIntervalMs: 100 }).tenants[0]?.providers;
    for (const provider of set ?? []) {
      expect(provider).toMatchObject({ staleIfErrorMs: 120_000, pollIntervalMs: 100 });
    }
  });

  it('refuses a pollIntervalMs under 100 and a staleIfErrorMs that is not a whole number of ms, naming the field', () => {
    expect(() => parse({ pollIntervalMs: 99 })).toThrow(/"treasury": pollIntervalMs: .*100/);
    expect(() => parse({ staleIfErrorMs: 1.5 })).toThrow(/"treasury": staleIfErrorMs: /);
    expect(() => parse({ staleIfErrorMs: -1 })).toThrow(/"treasury": staleIfErrorMs: .*0/);
  });
});

describe('two tenants with the same provider and credentials', () => {
  const keys = { acme: 'acme-key-7e1c', globex: 'globex-key-5d0a' };
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const STATUS = '{ provider(id: "treasury") { status { state } balances { stale } } }';

  it('keep their own status and their own earlier reads: never one for the other', async () => {
    const clock = handClock();
    const app = await startTestApp({
      sandbox,
      now: clock.now,
      configDocument: (baseUrl) => {
        const treasury = demoConfigDocument(baseUrl).providers.filter(
          (provider) => provider.id === 'treasury',
        );
        const providers = treasury.map((provider) => ({ ...provider, staleIfErrorMs: WINDOW_MS }));
        return {
          auth: {
            apiKeys: Object.entries(keys).map(([tenant, key]) => ({ tenant, sha256: sha256(key) })),
          },
          tenants: [
            { id: 'acme', providers },
            { id: 'globex', providers },
          ],
        };
      },
    });
    try {
      const STATE = '{ provider(id: "treasury") { status { state } } }';
      expect((await app.query(STATUS, {}, as(keys.acme))).errors).toBeUndefined();
      expect((await app.query(STATE, {}, as(keys.globex))).data).toEqual({
        provider: { status: { state: 'UNKNOWN' } },
      });

      clock.advance(1000);
      setFault('wallet', { type: 'status', status: 503 });
      const acme = await app.query(STATUS, {}, as(keys.acme));
      const globex = await app.query(STATUS, {}, as(keys.globex));
      sandbox.clearFaults();
      expect(acme.errors).toBeUndefined();
      const stale = (acme.data as { provider: { balances: { stale: boolean }[] } }).provider
        .balances;
      expect(stale.every((balance) => balance.stale)).toBe(true);
      // globex never read treasury: acme's read is not its to serve.
      expect(globex.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
      // (status in the same query was read from memory before that query's read failed.)
      expect(globex.data?.provider).toEqual({ status: { state: 'UNKNOWN' }, balances: null });
      for (const key of [keys.acme, keys.globex]) {
        expect((await app.query(STATE, {}, as(key))).data).toEqual({
          provider: { status: { state: 'DOWN' } },
        });
      }
    } finally {
      await app.close();
    }
  });
});
