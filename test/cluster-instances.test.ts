import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCallerAuthenticator, createReloadableAuthenticator } from '../src/caller-auth.js';
import { parseConfig } from '../src/config/load.js';
import { createConfigReloader } from '../src/reload.js';
import { createDemoSandboxData, DEMO_CREDENTIALS } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import {
  BUILT_IN_KINDS,
  balanceCalls,
  DASHBOARD_QUERY,
  demoConfigDocument,
  type GraphQLResult,
  loginCalls,
} from './helpers/app.js';
import {
  type ClusterInstance,
  clusterSection,
  newTokenKey,
  rawRedis,
  redisContents,
  startClusterInstance,
  TOKEN_KEY_ENV,
} from './helpers/cluster.js';
import { captureLogs } from './helpers/log-capture.js';
import { sampleValue, scrape } from './helpers/metrics.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

/**
 * Several balance-api instances, in-process on real ports, sharing one sandbox and one real
 * redis-server: CONTRACT.md "Running several instances (Redis)".
 */

const SECOND_PIK = { appId: 'second-pik-app', appSecret: 'second-pik-secret' };

let redis: TestRedis;
let raw: Redis;
let sandbox: Sandbox;
const instances: ClusterInstance[] = [];
const tokenKey = newTokenKey();

beforeAll(async () => {
  redis = await startTestRedis();
  raw = rawRedis(redis.url);
  const data = createDemoSandboxData();
  const [demo] = data.pik.customers;
  if (demo === undefined) throw new Error('demo data changed');
  // Another account at the same provider, for a reload that changes the credentials.
  data.pik.customers.push({
    ...SECOND_PIK,
    records: [{ ...(demo.records[0] as (typeof demo.records)[number]), balanceNo: 'SECOND-1' }],
  });
  sandbox = await startSandbox({ data });
});

beforeEach(async () => {
  if (redis.pid() === undefined) await redis.restart();
  await raw.flushall();
  sandbox.clearCalls();
  sandbox.clearFaults();
});

afterEach(async () => {
  await Promise.all(instances.splice(0).map((instance) => instance.close()));
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.close();
  await sandbox?.close();
});

/** `count` instances of one cluster, every provider with `extra` settings. */
async function startInstances(
  count: number,
  extra: Record<string, unknown> = {},
  options: { configDocument?: (baseUrl: (kind: string) => string) => Record<string, unknown> } = {},
): Promise<ClusterInstance[]> {
  const started = await Promise.all(
    Array.from({ length: count }, () =>
      startClusterInstance({
        sandbox,
        redisUrl: redis.url,
        tokenKey,
        configDocument:
          options.configDocument ??
          ((baseUrl) => ({
            providers: demoConfigDocument(baseUrl, BUILT_IN_KINDS).providers.map((provider) => ({
              ...provider,
              ...extra,
            })),
          })),
      }),
    ),
  );
  instances.push(...started);
  return started;
}

interface ProviderShape {
  id: string;
  accounts: { id: string; balances: { currency: string; total: string; fetchedAt: string }[] }[];
}

const providersOf = (result: GraphQLResult) => (result.data?.providers ?? []) as ProviderShape[];

function pikOf(result: GraphQLResult): ProviderShape | undefined {
  return providersOf(result).find((provider) => provider.id === 'pik-main');
}

const PIK_QUERY = `{
  provider(id: "pik-main") { accounts { id balances { currency total fetchedAt stale } } }
}`;

/** Asked after a read: `status` answers from memory, at once, before the read settles. */
const PIK_STATUS = `{ provider(id: "pik-main") { status { state lastError { code } } } }`;

interface PikAnswer {
  accounts:
    | { id: string; balances: { currency: string; fetchedAt: string; stale: boolean }[] }[]
    | null;
}

const pikAnswer = (result: GraphQLResult) => result.data?.provider as PikAnswer | null;

async function pikStatus(instance: ClusterInstance | undefined) {
  const result = await instance?.query(PIK_STATUS);
  return (result?.data?.provider as { status: unknown } | undefined)?.status;
}

describe('sessions', () => {
  it('30 concurrent cold dashboards over 3 instances: one login per portable provider, at most one per instance for merchant', async () => {
    const three = await startInstances(3);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        (three[index % 3] as ClusterInstance).query(DASHBOARD_QUERY),
      ),
    );
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data?.totals).toMatchObject({ complete: true });
    }
    // Every instance answered the same balances.
    expect(new Set(results.map((result) => JSON.stringify(result.data?.totals))).size).toBe(1);
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);
    // Bound to the address of the client that opened it: one per instance at most.
    expect(loginCalls(sandbox, 'merchant').length).toBeGreaterThanOrEqual(1);
    expect(loginCalls(sandbox, 'merchant').length).toBeLessThanOrEqual(3);
    // The instances hold the one token of each portable provider.
    for (const id of ['pik-main', 'ops']) {
      const tokens = three.map((instance) => instance.runtime.tokens.slot('default', id).current());
      expect(tokens.every((token) => token !== undefined)).toBe(true);
      expect(new Set(tokens.map((token) => token?.value)).size).toBe(1);
    }
  });

  it('an instance that starts later uses the cluster session: no login', async () => {
    const [first] = await startInstances(1);
    expect((await first?.query(DASHBOARD_QUERY))?.errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    const [late] = await startInstances(1);
    expect((await late?.query(DASHBOARD_QUERY))?.errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);
  });

  it('a session due for renewal is renewed once for the cluster, however many instances ask', async () => {
    const three = await startInstances(3);
    await Promise.all(three.map((instance) => instance.query(PIK_QUERY)));
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    // The sandbox's tokens live 7200 s; a minute before the end they are renewed.
    sandbox.clock.advance(7200_000 - 30_000);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        (three[index % 3] as ClusterInstance).query(PIK_QUERY),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    const tokens = three.map((instance) =>
      instance.runtime.tokens.slot('default', 'pik-main').current(),
    );
    expect(new Set(tokens.map((token) => token?.value)).size).toBe(1);
  });

  it('a session the provider revoked is renewed once for the cluster', async () => {
    const three = await startInstances(3);
    for (const instance of three) expect((await instance.query(PIK_QUERY)).errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    sandbox.simulators.pik.revokeTokens();
    // One instance finds the token refused, logs in again and shares the new one...
    expect((await three[0]?.query(PIK_QUERY))?.errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    // ...which the others take when theirs is refused, without a login of their own.
    for (const instance of three.slice(1)) {
      expect((await instance.query(PIK_QUERY)).errors).toBeUndefined();
    }
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
  });
});

describe('reads', () => {
  it("a read on A serves B and C within cacheTtlMs, with A's fetchedAt; past it they read again", async () => {
    const [a, b, c] = await startInstances(3, { cacheTtlMs: 60_000 });
    const first = await a?.query(DASHBOARD_QUERY);
    expect(first?.errors).toBeUndefined();
    const reads = BUILT_IN_KINDS.map((kind) => balanceCalls(sandbox, kind).length);
    for (const other of [b, c]) {
      const result = await other?.query(DASHBOARD_QUERY);
      expect(result?.errors).toBeUndefined();
      // The same balances, exactly (9007199254740993.01 and 0.000000000000000001 included),
      // read when A read them.
      expect(result?.data).toEqual(first?.data);
    }
    expect(BUILT_IN_KINDS.map((kind) => balanceCalls(sandbox, kind).length)).toEqual(reads);

    sandbox.clock.advance(60_000);
    expect((await b?.query(DASHBOARD_QUERY))?.errors).toBeUndefined();
    expect(balanceCalls(sandbox, 'pik').length).toBe((reads[0] as number) + 1);
    // ...and that read serves A and C.
    await a?.query(DASHBOARD_QUERY);
    await c?.query(DASHBOARD_QUERY);
    expect(balanceCalls(sandbox, 'pik').length).toBe((reads[0] as number) + 1);
  });

  it('30 concurrent cold dashboards over 3 instances read each provider once', async () => {
    const three = await startInstances(3, { cacheTtlMs: 60_000 });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        (three[index % 3] as ClusterInstance).query(DASHBOARD_QUERY),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    // One instance reads each currency set; the others wait for its read.
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(sandbox, 'asset-accounts')).toHaveLength(1);
    expect(balanceCalls(sandbox, 'wallet')).toHaveLength(1);
    expect(balanceCalls(sandbox, 'merchant')).toHaveLength(1);
  });

  it('an instance that dies while logging in and reading for the cluster keeps the others waiting a moment only', async () => {
    const [a, b] = await startInstances(2, { cacheTtlMs: 60_000, timeoutMs: 2000 });
    if (a === undefined || b === undefined) throw new Error('not started');
    sandbox.setFault('pik', { type: 'hang', includeLogin: true });
    // A takes the read's lock and the login's, and waits for the provider...
    const dying = a.query(PIK_QUERY);
    await vi.waitFor(
      async () => {
        expect(loginCalls(sandbox, 'pik').map((call) => call.fault)).toEqual(['hang']);
        expect(await raw.keys('balance-api:read-lock:*')).toHaveLength(1);
        expect(await raw.keys('balance-api:login-lock:*')).toHaveLength(1);
      },
      { interval: 2 },
    );
    // ...and is gone for the cluster: its locks are no longer renewed.
    a.cluster.close();
    sandbox.clearFaults();
    // B, asking meanwhile, waits for A a moment (the locks' life, a second), then logs in and
    // reads itself, well within its deadline (2 s), where it used to wait for A's deadline.
    const result = await b.query(PIK_QUERY);
    expect(result.errors).toBeUndefined();
    expect(pikAnswer(result)?.accounts?.length).toBeGreaterThan(0);
    expect(loginCalls(sandbox, 'pik').map((call) => call.status)).toEqual([0, 200]);
    expect((await dying).errors?.[0]?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
  });

  it("stale-if-error across instances: B answers A's read, marked stale, when its own fails", async () => {
    const [a, b] = await startInstances(2, { staleIfErrorMs: 600_000 });
    const fresh = pikAnswer((await a?.query(PIK_QUERY)) as GraphQLResult);
    expect(fresh?.accounts?.[0]?.balances[0]?.stale).toBe(false);
    sandbox.setFault('pik', { type: 'status', status: 503 });
    const result = await b?.query(PIK_QUERY);
    expect(result?.errors).toBeUndefined();
    const stale = pikAnswer(result as GraphQLResult);
    expect(stale?.accounts?.map((account) => account.id)).toEqual(
      fresh?.accounts?.map((account) => account.id),
    );
    expect(stale?.accounts?.[0]?.balances[0]?.stale).toBe(true);
    expect(stale?.accounts?.[0]?.balances[0]?.fetchedAt).toBe(
      fresh?.accounts?.[0]?.balances[0]?.fetchedAt,
    );
    // B did try, and says why its answer is stale.
    expect(await pikStatus(b)).toEqual({
      state: 'DOWN',
      lastError: { code: 'UPSTREAM_UNAVAILABLE' },
    });
  });
});

describe('a reload', () => {
  it("gives a provider with other credentials nothing of the old configuration's session or reads", async () => {
    const [a, b] = await startInstances(2, { cacheTtlMs: 60_000 });
    if (a === undefined || b === undefined) throw new Error('not started');
    const accountsOf = async (instance: ClusterInstance) =>
      pikAnswer(await instance.query(PIK_QUERY))?.accounts?.map((account) => account.id);
    expect(await accountsOf(a)).toContain('pik-main:PIK-USD-001');
    expect(await accountsOf(b)).toContain('pik-main:PIK-USD-001');
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(1);

    // A is reloaded (SIGHUP's path) with pik-main on the other account; B still runs the old one.
    const document = {
      providers: demoConfigDocument(
        (kind) => `${sandbox.origin}/${kind}`,
        BUILT_IN_KINDS,
      ).providers.map((provider) => ({
        ...provider,
        cacheTtlMs: 60_000,
        ...(provider.id === 'pik-main' ? { credentials: SECOND_PIK } : {}),
      })),
      cluster: clusterSection({ redisUrl: redis.url, tokenKey }),
    };
    const reloader = createConfigReloader({
      config: a.config,
      load: () =>
        parseConfig(document, {
          source: 'reloaded',
          env: { [TOKEN_KEY_ENV]: tokenKey },
          baseDir: process.cwd(),
        }),
      runtime: a.runtime,
      hub: a.server.live.hub,
      authenticator: createReloadableAuthenticator(
        createCallerAuthenticator(undefined, new Set(['default'])),
      ),
      log: captureLogs().log,
    });
    expect(reloader.reload()).toBe('ok');
    // Its own login and read: the old session and the old read are another configuration's.
    expect(await accountsOf(a)).toEqual(['pik-main:SECOND-1']);
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(2);
    // B goes on with the old configuration's session and read, untouched.
    expect(await accountsOf(b)).toContain('pik-main:PIK-USD-001');
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(2);
  });
});

describe('rate limits', () => {
  it('a 429 with Retry-After on A holds B and C: UPSTREAM_RATE_LIMITED with the seconds left, no call', async () => {
    const [a, b, c] = await startInstances(3);
    sandbox.setFault('pik', { type: 'rate-limit', retryAfterSeconds: 30 });
    const first = await a?.query(PIK_QUERY);
    expect(first?.errors?.[0]?.extensions).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      retryAfterSeconds: 30,
    });
    const calls = sandbox.calls('pik').length;
    // The provider would answer now; it asked to be left alone for 30 s.
    sandbox.clearFaults();
    sandbox.clock.advance(10_000);
    for (const other of [b, c, a]) {
      const result = await other?.query(PIK_QUERY);
      expect(pikAnswer(result as GraphQLResult)?.accounts).toBeNull();
      expect(result?.errors?.[0]?.extensions).toMatchObject({
        code: 'UPSTREAM_RATE_LIMITED',
        providerId: 'pik-main',
        retryable: true,
        retryAfterSeconds: 20,
      });
    }
    expect(sandbox.calls('pik')).toHaveLength(calls);
    // Once the time has come, they call it again.
    sandbox.clock.advance(20_000);
    expect((await b?.query(PIK_QUERY))?.errors).toBeUndefined();
    expect(sandbox.calls('pik').length).toBeGreaterThan(calls);
  });

  it('a 429 that A waits out (Retry-After within retry.maxRetryAfterMs) holds B until then too', async () => {
    const [a, b] = await startInstances(2);
    // The shortest wait a provider can ask for: one second. A waits it out and tries again.
    sandbox.setFault('pik', { type: 'rate-limit', retryAfterSeconds: 1, times: 1 });
    const first = a?.query(PIK_QUERY);
    await vi.waitFor(async () => expect(await raw.keys('balance-api:hold:*')).toHaveLength(1), {
      interval: 2,
    });
    const [holdKey] = await raw.keys('balance-api:hold:*');
    const until = Number(await raw.get(holdKey as string));
    // B asks meanwhile: it waits, as A does, rather than call a provider that asked for quiet.
    const [fromA, fromB] = await Promise.all([first, b?.query(PIK_QUERY)]);
    expect(fromA?.errors).toBeUndefined();
    expect(fromB?.errors).toBeUndefined();
    const reads = balanceCalls(sandbox, 'pik');
    expect(reads.map((call) => call.status)).toEqual([429, 200, 200]);
    for (const call of reads.slice(1)) expect(call.at).toBeGreaterThanOrEqual(until);
  });

  it('while the hold lasts, an instance with an earlier read answers it, marked stale', async () => {
    const [a, b] = await startInstances(2, { staleIfErrorMs: 600_000 });
    const fresh = pikAnswer((await a?.query(PIK_QUERY)) as GraphQLResult);
    sandbox.setFault('pik', { type: 'rate-limit', retryAfterSeconds: 30 });
    // A's own 429: answered from its earlier read.
    const own = await a?.query(PIK_QUERY);
    expect(own?.errors).toBeUndefined();
    const calls = sandbox.calls('pik').length;
    sandbox.clearFaults();
    const held = await b?.query(PIK_QUERY);
    expect(held?.errors).toBeUndefined();
    const answer = pikAnswer(held as GraphQLResult);
    expect(answer?.accounts?.[0]?.balances[0]?.stale).toBe(true);
    expect(answer?.accounts?.[0]?.balances[0]?.fetchedAt).toBe(
      fresh?.accounts?.[0]?.balances[0]?.fetchedAt,
    );
    expect(await pikStatus(b)).toEqual({
      state: 'DOWN',
      lastError: { code: 'UPSTREAM_RATE_LIMITED' },
    });
    expect(sandbox.calls('pik')).toHaveLength(calls);
  });
});

/** Every demo secret, and how they might be written down: nothing of it may be in Redis. */
function secretsOf(instances: readonly ClusterInstance[]): string[] {
  const secrets = [
    DEMO_CREDENTIALS.pik.appSecret,
    DEMO_CREDENTIALS.assetAccounts.password,
    DEMO_CREDENTIALS.assetAccounts.otpSecret,
    DEMO_CREDENTIALS.merchant.clientSecret,
    DEMO_CREDENTIALS.wallet.apiKey,
    DEMO_CREDENTIALS.prepaidSms.devSecret,
    DEMO_CREDENTIALS.prepaidVoice.devSecret,
    tokenKey,
    Buffer.from(tokenKey, 'base64').toString('hex'),
  ];
  for (const instance of instances) {
    for (const id of ['pik-main', 'ops', 'acquirer']) {
      const token = instance.runtime.tokens.slot('default', id).current()?.value;
      if (token !== undefined) secrets.push(token);
    }
  }
  const encoded = secrets.flatMap((secret) => [
    secret,
    Buffer.from(secret).toString('base64'),
    Buffer.from(secret).toString('base64url'),
    Buffer.from(secret).toString('hex'),
    createHash('sha256').update(secret).digest('hex'),
  ]);
  // The balances are the customer's too: no amount, account or address in clear.
  return [...encoded, '9007199254740993', '000000000000000001', 'PIK-USD-001', 'Treasury'];
}

describe('what Redis holds', () => {
  it('no token, secret or balance in clear in any key, value or message; keys as documented', async () => {
    const listener = rawRedis(redis.url);
    const messages: string[] = [];
    await listener.psubscribe('balance-api:*');
    listener.on('pmessage', (_pattern, channel, message) => messages.push(channel, message));
    try {
      const three = await startInstances(3, { cacheTtlMs: 60_000, staleIfErrorMs: 600_000 });
      // Subscribers hear the channels; the reads below publish on them.
      const subscription = await fetch(three[2]?.url as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { balanceEvents { kind currency } }' }),
      });
      await Promise.all(three.map((instance) => instance.query(DASHBOARD_QUERY)));
      sandbox.clock.advance(60_000);
      await Promise.all(three.map((instance) => instance.query(DASHBOARD_QUERY)));
      sandbox.setFault('wallet', { type: 'rate-limit', retryAfterSeconds: 30 });
      sandbox.clock.advance(60_000);
      await three[0]?.query(DASHBOARD_QUERY);
      await vi.waitFor(() => expect(messages.length).toBeGreaterThan(0));
      await subscription.body?.cancel();

      const contents = await redisContents(raw);
      const kinds = new Set([...contents.keys()].map((key) => key.split(':')[1]));
      for (const kind of ['hold', 'read', 'session']) expect(kinds).toContain(kind);
      for (const key of contents.keys()) {
        expect(key).toMatch(
          /^balance-api:(session|login-lock|read|read-lock|hold|lease):default:[a-z0-9-]+:[0-9a-f]{32}(:[0-9a-f]{16})?$/,
        );
      }
      const everything = [...contents].flat().join('\n') + messages.join('\n');
      expect(everything.length).toBeGreaterThan(1000);
      for (const secret of secretsOf(three)) expect(everything).not.toContain(secret);
    } finally {
      listener.disconnect();
    }
  });
});

describe('two tenants on one Redis', () => {
  const ACME_KEY = 'acme-api-key-canary-77c1';
  const GLOBEX_KEY = 'globex-api-key-canary-19fe';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  /** Both tenants with the very same providers (ids, credentials, upstream). */
  const twoTenants = (baseUrl: (kind: string) => string) => {
    const providers = demoConfigDocument(baseUrl, BUILT_IN_KINDS).providers.map((provider) => ({
      ...provider,
      cacheTtlMs: 60_000,
      staleIfErrorMs: 600_000,
    }));
    return {
      auth: {
        apiKeys: [
          { tenant: 'acme', sha256: sha256(ACME_KEY) },
          { tenant: 'globex', sha256: sha256(GLOBEX_KEY) },
        ],
      },
      tenants: [
        { id: 'acme', providers },
        { id: 'globex', providers },
      ],
    };
  };

  it("never see each other's sessions or reads", async () => {
    const [a, b, c] = await startInstances(3, {}, { configDocument: twoTenants });
    const acme = await a?.query(DASHBOARD_QUERY, undefined, {
      authorization: `Bearer ${ACME_KEY}`,
    });
    expect(acme?.errors).toBeUndefined();
    const reads = balanceCalls(sandbox, 'pik').length;
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    // The same provider of the other tenant, on the other instance: its own login and read.
    const globex = await b?.query(DASHBOARD_QUERY, undefined, {
      authorization: `Bearer ${GLOBEX_KEY}`,
    });
    expect(globex?.errors).toBeUndefined();
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(reads + 1);
    expect(pikOf(globex as GraphQLResult)?.accounts[0]?.balances[0]?.fetchedAt).not.toBe(
      pikOf(acme as GraphQLResult)?.accounts[0]?.balances[0]?.fetchedAt,
    );
    expect(b?.runtime.tokens.slot('globex', 'pik-main').current()?.value).not.toBe(
      a?.runtime.tokens.slot('acme', 'pik-main').current()?.value,
    );
    // Each tenant's reads serve that tenant only, on any instance.
    await b?.query(DASHBOARD_QUERY, undefined, { authorization: `Bearer ${ACME_KEY}` });
    await a?.query(DASHBOARD_QUERY, undefined, { authorization: `Bearer ${GLOBEX_KEY}` });
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(reads + 1);
    expect(loginCalls(sandbox, 'pik')).toHaveLength(2);
    // The provider fails: a tenant is never answered from the other's read, even where the
    // cluster holds no read of its own (C has read nothing itself).
    sandbox.setFault('pik', { type: 'status', status: 503 });
    sandbox.clock.advance(60_000);
    await raw.del(...(await raw.keys('balance-api:read:globex:*')));
    const failed = await c?.query(PIK_QUERY, undefined, { authorization: `Bearer ${GLOBEX_KEY}` });
    expect(failed?.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    const stale = await c?.query(PIK_QUERY, undefined, { authorization: `Bearer ${ACME_KEY}` });
    expect(stale?.errors).toBeUndefined();
    expect(pikAnswer(stale as GraphQLResult)?.accounts?.[0]?.balances[0]?.stale).toBe(true);
    const keys = await raw.keys('*');
    expect(keys.some((key) => key.includes(':acme:'))).toBe(true);
    expect(keys.some((key) => key.includes(':globex:'))).toBe(true);
  });
});

describe('Redis trouble', () => {
  it('Redis that stops answering (a hung server): queries complete without an error; answering again: rejoined', async () => {
    const [a, b] = await startInstances(2, { cacheTtlMs: 1000, staleIfErrorMs: 60_000 });
    expect((await a?.query(DASHBOARD_QUERY))?.errors).toBeUndefined();
    redis.pause();
    try {
      sandbox.clock.advance(1000);
      // Each instance waits for Redis once, up to cluster.redis.timeoutMs, then goes on alone.
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, index) => (index % 2 === 0 ? a : b)?.query(DASHBOARD_QUERY)),
      );
      for (const result of results) {
        expect(result?.errors).toBeUndefined();
        expect(result?.data?.totals).toMatchObject({ complete: true });
      }
      for (const instance of [a, b]) {
        const { samples } = await scrape(instance?.origin as string);
        expect(sampleValue(samples, 'balance_api_cluster_redis_up')).toBe(0);
      }
    } finally {
      redis.resume();
    }
    for (const instance of [a, b]) {
      await vi.waitFor(
        async () => {
          const { samples } = await scrape(instance?.origin as string);
          expect(sampleValue(samples, 'balance_api_cluster_redis_up')).toBe(1);
        },
        { timeout: 5000, interval: 20 },
      );
    }
  });

  it('Redis stopped mid-load: every query completes without an error; restarted: rejoined', async () => {
    const three = await startInstances(3, { cacheTtlMs: 1000 });
    const before = await Promise.all(three.map((instance) => scrape(instance.origin)));
    for (const metrics of before) {
      expect(sampleValue(metrics.samples, 'balance_api_cluster_redis_up')).toBe(1);
    }
    let stopped: Promise<void> | undefined;
    const results = await Promise.all(
      Array.from({ length: 60 }, async (_, index) => {
        // Redis goes away while the queries are under way.
        if (index === 20) stopped = redis.stop();
        if (index % 10 === 0) sandbox.clock.advance(1000);
        return (three[index % 3] as ClusterInstance).query(DASHBOARD_QUERY);
      }),
    );
    await stopped;
    // Afterwards too: each instance alone.
    results.push(...(await Promise.all(three.map((instance) => instance.query(DASHBOARD_QUERY)))));
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data?.totals).toMatchObject({ complete: true });
    }
    for (const instance of three) {
      const { samples } = await scrape(instance.origin);
      expect(sampleValue(samples, 'balance_api_cluster_redis_up')).toBe(0);
    }

    await redis.restart();
    for (const instance of three) {
      await vi.waitFor(
        async () => {
          const { samples } = await scrape(instance.origin);
          expect(sampleValue(samples, 'balance_api_cluster_redis_up')).toBe(1);
        },
        { timeout: 5000, interval: 20 },
      );
    }
    // Rejoined: a read on one instance serves the others again.
    sandbox.clock.advance(1000);
    expect((await three[0]?.query(DASHBOARD_QUERY))?.errors).toBeUndefined();
    const reads = balanceCalls(sandbox, 'pik').length;
    for (const instance of three.slice(1)) {
      expect((await instance.query(DASHBOARD_QUERY)).errors).toBeUndefined();
    }
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(reads);
  });
});
