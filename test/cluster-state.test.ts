import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Cluster, createCluster } from '../src/cluster/create-cluster.js';
import type { ProviderIdentity } from '../src/cluster/keys.js';
import {
  obtainSharedSession,
  type SharedSessions,
  type SharedSessionToken,
} from '../src/cluster/shared-sessions.js';
import type { ClusterConfig } from '../src/config/cluster.js';
import { Amount } from '../src/money.js';
import type { ProviderReadEvent } from '../src/provider-events.js';
import type { ProviderRead } from '../src/provider-reader.js';
import type { NormalizedAccount } from '../src/providers/adapter.js';
import type { SessionToken } from '../src/upstream/token-cache.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const CANARY_SECRET = 'canary-app-secret-5d1f';
const CANARY_TOKEN = 'canary-session-token-8c2e';
const TOKEN_KEY = randomBytes(32);
const T0 = Date.parse('2026-12-02T10:00:00.000Z');

const IDENTITY: ProviderIdentity = {
  kind: 'pik',
  baseUrl: 'https://pik.example',
  credentials: { appId: 'app-1', appSecret: CANARY_SECRET },
};

let redis: TestRedis;
let raw: Redis;
const clusters: Cluster[] = [];

/** balance-api's clock, moved by hand: one for every instance of a test. */
let clockAt = T0;
const now = () => clockAt;

beforeAll(async () => {
  redis = await startTestRedis();
  raw = new Redis(redis.url);
});

beforeEach(async () => {
  clockAt = T0;
  await raw.flushall();
});

afterEach(() => {
  for (const cluster of clusters.splice(0)) cluster.close();
  redis.resume();
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.close();
});

/** One balance-api instance's cluster, connected. */
async function instance(options: { leaseMs?: number } = {}): Promise<Cluster> {
  const config: ClusterConfig = {
    redis: { url: redis.url, timeoutMs: 200 },
    tokenKey: TOKEN_KEY,
    keyPrefix: 'balance-api:',
    leaseMs: options.leaseMs ?? 10_000,
  };
  const cluster = createCluster(config, { now, probeIntervalMs: 20, maxReconnectDelayMs: 50 });
  clusters.push(cluster);
  expect(await cluster.link.whenUp(5000)).toBe(true);
  return cluster;
}

function account(total: string, name = 'Treasury'): NormalizedAccount {
  const amount = Amount.fromJsonNumberText(total) as Amount;
  return {
    upstreamId: 'B-1',
    name,
    type: 'GLOBAL_ACCOUNT',
    status: 'ACTIVE',
    suppressed: false,
    balances: [
      {
        currency: 'USDT',
        network: 'TRC20',
        total: amount,
        available: amount,
        components: [],
        depositAddresses: [],
        updatedAt: undefined,
        raw: { balance: total, note: name },
      },
    ],
  };
}

function read(total: string, fetchedAt = clockAt, name?: string): ProviderRead {
  return { accounts: [account(total, name)], fetchedAt: new Date(fetchedAt) };
}

function totalOf(value: ProviderRead | undefined): string | undefined {
  return value?.accounts[0]?.balances[0]?.total.toString();
}

/** A login that takes a moment, as an upstream's does, and counts itself. */
function countingLogin(lifetimeMs = 3_600_000) {
  let count = 0;
  const login = async (): Promise<SessionToken> => {
    count += 1;
    const value = `${CANARY_TOKEN}-${count}`;
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { value, expiresAt: now() + lifetimeMs };
  };
  return { login, count: () => count };
}

/** Not due for renewal: the token slot's rule, renew 60 s before expiry. */
const notDue = (token: SharedSessionToken) => now() < token.expiresAt - 60_000;

describe('shared sessions', () => {
  it('one login for three instances and thirty concurrent callers; everyone gets its token', async () => {
    const instances = await Promise.all([instance(), instance(), instance()]);
    const sessions = instances.map((cluster) => cluster.provider('acme', 'pik-main', IDENTITY));
    const { login, count } = countingLogin();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        obtainSharedSession({
          sessions: (sessions[index % 3] as { sessions: SharedSessions }).sessions,
          login,
          usable: notDue,
          now,
          lockTtlMs: 5000,
          pollMs: 5,
        }),
      ),
    );
    expect(count()).toBe(1);
    expect(new Set(results.map((result) => result.token.value))).toEqual(
      new Set([`${CANARY_TOKEN}-1`]),
    );
    expect(results.filter((result) => result.from === 'login')).toHaveLength(1);
    // The key lives as long as the token, and no lock is left behind.
    const ttl = await raw.pttl(sessions[0]?.ref.key('session') as string);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
    expect(await raw.exists(sessions[0]?.ref.key('login-lock') as string)).toBe(0);
  });

  it('reads again after taking the lock: a token shared meanwhile is used, not a new login', async () => {
    const [a, b] = [await instance(), await instance()];
    const shared = a.provider('acme', 'pik-main', IDENTITY).sessions;
    const other = b.provider('acme', 'pik-main', IDENTITY).sessions;
    // Between this instance's first read and its lock, the other instance shares a token.
    const racing: SharedSessions = {
      ...shared,
      async lock(ttlMs) {
        await other.write({
          value: `${CANARY_TOKEN}-b`,
          expiresAt: now() + 600_000,
          obtainedAt: now(),
        });
        return shared.lock(ttlMs);
      },
    };
    const { login, count } = countingLogin();
    const result = await obtainSharedSession({
      sessions: racing,
      login,
      usable: notDue,
      now,
      lockTtlMs: 5000,
    });
    expect(count()).toBe(0);
    expect(result).toEqual({
      from: 'cluster',
      token: { value: `${CANARY_TOKEN}-b`, expiresAt: now() + 600_000, obtainedAt: now() },
    });
  });

  it('renews once for the cluster: a token due for renewal is replaced by one login', async () => {
    const instances = await Promise.all([instance(), instance(), instance()]);
    const sessions = instances.map(
      (cluster) => cluster.provider('acme', 'pik-main', IDENTITY).sessions,
    );
    await sessions[0]?.write({ value: 'old', expiresAt: now() + 120_000, obtainedAt: now() });
    clockAt += 61_000;
    const { login, count } = countingLogin();
    const results = await Promise.all(
      sessions.map((shared) =>
        obtainSharedSession({
          sessions: shared as SharedSessions,
          login,
          usable: notDue,
          now,
          lockTtlMs: 5000,
          pollMs: 5,
        }),
      ),
    );
    expect(count()).toBe(1);
    expect(results.map((result) => result.token.value)).toEqual([
      `${CANARY_TOKEN}-1`,
      `${CANARY_TOKEN}-1`,
      `${CANARY_TOKEN}-1`,
    ]);
  });

  it('drops or rotates only the token it was told of: a newer one stays', async () => {
    const cluster = await instance();
    const { sessions } = cluster.provider('acme', 'pik-main', IDENTITY);
    const token = { value: 'first', expiresAt: now() + 60_000, obtainedAt: now() };
    await sessions.write(token);
    expect(await sessions.invalidate('another')).toEqual({ ok: true, value: false });
    expect(await sessions.read()).toEqual({ ok: true, value: token });
    expect(await sessions.rotate('another', { ...token, value: 'x' })).toEqual({
      ok: true,
      value: false,
    });
    const rotated = { value: 'second', expiresAt: now() + 30_000, obtainedAt: now() };
    expect(await sessions.rotate('first', rotated)).toEqual({ ok: true, value: true });
    expect(await sessions.read()).toEqual({ ok: true, value: rotated });
    expect(
      await raw.pttl(cluster.provider('acme', 'pik-main', IDENTITY).ref.key('session')),
    ).toBeLessThanOrEqual(30_000);
    expect(await sessions.invalidate('first')).toEqual({ ok: true, value: false });
    expect(await sessions.invalidate('second')).toEqual({ ok: true, value: true });
    expect(await sessions.read()).toEqual({ ok: true, value: undefined });
  });

  it('frees the lock after a failed login, and the failure is the login’s own', async () => {
    const cluster = await instance();
    const { sessions, ref } = cluster.provider('acme', 'pik-main', IDENTITY);
    const refused = new Error('UPSTREAM_AUTH_FAILED from the provider');
    await expect(
      obtainSharedSession({
        sessions,
        login: () => Promise.reject(refused),
        usable: notDue,
        now,
        lockTtlMs: 5000,
      }),
    ).rejects.toBe(refused);
    expect(await raw.exists(ref.key('login-lock'))).toBe(0);
    expect(await raw.exists(ref.key('session'))).toBe(0);
  });

  it('does not share a token the caller would not keep', async () => {
    const cluster = await instance();
    const { sessions, ref } = cluster.provider('acme', 'pik-main', IDENTITY);
    const result = await obtainSharedSession({
      sessions,
      login: async () => ({ value: 'bad\r\ntoken', expiresAt: now() + 60_000 }),
      usable: notDue,
      keep: (token) => !/\s/.test(token.value),
      now,
      lockTtlMs: 5000,
    });
    expect(result.from).toBe('login');
    expect(await raw.exists(ref.key('session'))).toBe(0);
  });

  it('a lock holder that never finishes: the others wait at most maxWaitMs, then log in', async () => {
    const [a, b] = [await instance(), await instance()];
    const held = await a.provider('acme', 'pik-main', IDENTITY).sessions.lock(60_000);
    expect(held.ok && held.value !== undefined).toBe(true);
    const second = await b.provider('acme', 'pik-main', IDENTITY).sessions.lock(60_000);
    expect(second).toEqual({ ok: true, value: undefined });
    const lockKey = a.provider('acme', 'pik-main', IDENTITY).ref.key('login-lock');
    expect(await raw.pttl(lockKey)).toBeLessThanOrEqual(60_000);
    const { login, count } = countingLogin();
    const result = await obtainSharedSession({
      sessions: b.provider('acme', 'pik-main', IDENTITY).sessions,
      login,
      usable: notDue,
      now,
      lockTtlMs: 5000,
      maxWaitMs: 40,
      pollMs: 5,
    });
    expect(result.from).toBe('login');
    expect(count()).toBe(1);
    // The holder's release frees its own lock only.
    if (held.ok && held.value !== undefined) {
      await raw.set(lockKey, 'someone-else', 'PX', 60_000);
      expect(await held.value.release()).toEqual({ ok: true, value: false });
      expect(await raw.get(lockKey)).toBe('someone-else');
    }
  });

  it('Redis not answering: the login happens here at once, within the Redis deadline', async () => {
    const cluster = await instance();
    const { sessions } = cluster.provider('acme', 'pik-main', IDENTITY);
    redis.pause();
    const { login, count } = countingLogin();
    const result = await obtainSharedSession({
      sessions,
      login,
      usable: notDue,
      now,
      lockTtlMs: 5000,
    });
    expect(result.from).toBe('login');
    expect(count()).toBe(1);
    expect(cluster.link.isUp()).toBe(false);
    // Down now: the next caller does not even wait for the deadline.
    const again = await obtainSharedSession({
      sessions,
      login,
      usable: notDue,
      now,
      lockTtlMs: 5000,
    });
    expect(again.from).toBe('login');
  });
});

describe('shared reads', () => {
  it('a read by one instance serves another within the window, exactly as read', async () => {
    const [a, b] = [await instance(), await instance()];
    const first = a.provider('acme', 'pik-main', IDENTITY).reads;
    const second = b.provider('acme', 'pik-main', IDENTITY).reads;
    const stored = read('9007199254740993.000000000000000001', T0 - 250);
    expect(await first.store('*', stored, 5000)).toEqual({ ok: true, value: true });
    const served = await second.fresh('*', 1000);
    expect(served.ok).toBe(true);
    const value = served.ok ? served.value : undefined;
    expect(totalOf(value)).toBe('9007199254740993.000000000000000001');
    expect(value?.fetchedAt.toISOString()).toBe(new Date(T0 - 250).toISOString());
    expect(value?.accounts[0]?.balances[0]?.raw).toEqual({
      balance: '9007199254740993.000000000000000001',
      note: 'Treasury',
    });
    // A read of every currency answers a narrower question; the window is judged by fetchedAt.
    expect(totalOf(await unwrap(second.fresh('USDT', 1000)))).toBe(
      '9007199254740993.000000000000000001',
    );
    clockAt += 750;
    expect(await second.fresh('*', 1000)).toEqual({ ok: true, value: undefined });
    const ttl = await raw.pttl(a.provider('acme', 'pik-main', IDENTITY).ref.key('read'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('a narrower read serves only its subsets, and stale-if-error takes the newest that covers', async () => {
    const cluster = await instance();
    const { reads } = cluster.provider('acme', 'pik-main', IDENTITY);
    await reads.store('EUR,USDT', read('1.50', T0 - 3000), 60_000);
    await reads.store('*', read('2.50', T0 - 5000), 60_000);
    await reads.store('USDT', read('3.50', T0 - 1000), 60_000);
    expect(totalOf(await unwrap(reads.fresh('EUR,USDT', 60_000)))).toBe('2.50');
    expect(await reads.fresh('BTC', 10)).toEqual({ ok: true, value: undefined });
    expect(totalOf(await unwrap(reads.covering('USDT', 60_000)))).toBe('3.50');
    expect(totalOf(await unwrap(reads.covering('EUR', 60_000)))).toBe('1.50');
    expect(totalOf(await unwrap(reads.covering('*', 60_000)))).toBe('2.50');
    expect(totalOf(await unwrap(reads.covering('EUR', 4000)))).toBe('1.50');
    expect(await reads.covering('BTC', 4000)).toEqual({ ok: true, value: undefined });
  });

  it('an older read does not replace a newer one, and at most 32 shapes are kept', async () => {
    const cluster = await instance();
    const { reads, ref } = cluster.provider('acme', 'pik-main', IDENTITY);
    await reads.store('*', read('2.00', T0), 60_000);
    expect(await reads.store('*', read('1.00', T0 - 10), 60_000)).toEqual({
      ok: true,
      value: false,
    });
    expect(totalOf(await unwrap(reads.fresh('*', 1000)))).toBe('2.00');
    for (let index = 0; index < 40; index += 1) {
      await reads.store(`C${String(index).padStart(2, '0')}`, read('1', T0 - 100 + index), 60_000);
    }
    const fields = await raw.hkeys(ref.key('read'));
    expect(fields).toHaveLength(32);
    expect(fields).toContain('*');
    expect(fields).not.toContain('C00');
    expect(fields).toContain('C39');
  });
});

describe('the rate-limit hold', () => {
  it('a Retry-After seen by one instance holds the others until then; a shorter one does not shorten it', async () => {
    const [a, b] = [await instance(), await instance()];
    const holdA = a.provider('acme', 'pik-main', IDENTITY).hold;
    const holdB = b.provider('acme', 'pik-main', IDENTITY).hold;
    expect(await holdB.until()).toEqual({ ok: true, value: undefined });
    expect(await holdA.holdUntil(T0 + 30_000)).toEqual({ ok: true, value: true });
    expect(await holdB.until()).toEqual({ ok: true, value: T0 + 30_000 });
    expect(await holdB.holdUntil(T0 + 5000)).toEqual({ ok: true, value: false });
    expect(await holdA.until()).toEqual({ ok: true, value: T0 + 30_000 });
    const ttl = await raw.pttl(a.provider('acme', 'pik-main', IDENTITY).ref.key('hold'));
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    clockAt += 30_000;
    expect(await holdB.until()).toEqual({ ok: true, value: undefined });
  });
});

describe('the polling lease', () => {
  it('one instance polls; when it dies another takes over within the lease', async () => {
    const leaseMs = 600;
    const [a, b] = [await instance({ leaseMs }), await instance({ leaseMs })];
    const keeperA = a.provider('acme', 'pik-main', IDENTITY).keepLease();
    expect(await keeperA.started).toBe(true);
    let resolveTakeover: (at: number) => void = () => {};
    const takeover = new Promise<number>((resolve) => {
      resolveTakeover = resolve;
    });
    const keeperB = b.provider('acme', 'pik-main', IDENTITY).keepLease({
      onChange: (polls) => {
        if (polls) resolveTakeover(performance.now());
      },
    });
    expect(await keeperB.started).toBe(false);
    expect(keeperA.shouldPoll()).toBe(true);
    expect(keeperB.shouldPoll()).toBe(false);
    const ref = a.provider('acme', 'pik-main', IDENTITY).ref;
    expect(await raw.get(ref.key('lease'))).toBe(a.link.instanceId);

    // A dies: its connection goes, nothing is released.
    const died = performance.now();
    a.close();
    const tookOver = await Promise.race([
      takeover,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), leaseMs + 400)),
    ]);
    expect(tookOver).toBeDefined();
    expect((tookOver as number) - died).toBeLessThanOrEqual(leaseMs);
    expect(keeperB.shouldPoll()).toBe(true);
    expect(await raw.get(ref.key('lease'))).toBe(b.link.instanceId);
    await keeperA.stop();
    await keeperB.stop();
    // Stopping gives the lease up at once.
    expect(await raw.exists(ref.key('lease'))).toBe(0);
  });

  it('while Redis does not answer, every instance polls for its own subscribers', async () => {
    const [a, b] = [await instance(), await instance()];
    const keeperA = a.provider('acme', 'pik-main', IDENTITY).keepLease();
    expect(await keeperA.started).toBe(true);
    const keeperB = b.provider('acme', 'pik-main', IDENTITY).keepLease();
    expect(await keeperB.started).toBe(false);
    const alone = new Promise<boolean>((resolve) => {
      const stop = b.link.onStateChange((up) => {
        stop();
        resolve(up);
      });
    });
    redis.pause();
    // The next Redis operation of B passes its deadline; B's keeper then polls alone.
    await b.link.run((r) => r.ping());
    expect(await alone).toBe(false);
    expect(keeperB.shouldPoll()).toBe(true);
    redis.resume();
    await keeperA.stop();
    await keeperB.stop();
  });
});

describe('read events', () => {
  it('reach every other instance subscribed to the provider, exactly, and not the publisher', async () => {
    const [a, b, c] = [await instance(), await instance(), await instance()];
    const ref = (cluster: Cluster) => cluster.provider('acme', 'pik-main', IDENTITY).ref;
    const got = {
      a: [] as ProviderReadEvent[],
      b: [] as ProviderReadEvent[],
      c: [] as ProviderReadEvent[],
    };
    const subscriptions = [
      a.events.subscribe(ref(a), (event) => got.a.push(event)),
      b.events.subscribe(ref(b), (event) => got.b.push(event)),
      c.events.subscribe(ref(c), (event) => got.c.push(event)),
    ];
    expect(await Promise.all(subscriptions.map((s) => s.ready))).toEqual([true, true, true]);
    const arrived = new Promise<void>((resolve) => {
      c.events.subscribe(ref(c), () => resolve());
    });
    const event: ProviderReadEvent = {
      ok: true,
      currencies: null,
      read: read('9007199254740993.000000000000000001'),
      stale: false,
    };
    expect(await a.events.publish(ref(a), event)).toEqual({ ok: true, value: 3 });
    await arrived;
    await new Promise((resolve) => setImmediate(resolve));
    expect(got.a).toEqual([]);
    expect(got.b).toHaveLength(1);
    expect(got.c).toHaveLength(1);
    for (const received of [got.b[0], got.c[0]]) {
      expect(received?.ok).toBe(true);
      if (received?.ok !== true) continue;
      expect(totalOf(received.read)).toBe('9007199254740993.000000000000000001');
      expect(received.read.fetchedAt.getTime()).toBe(T0);
      expect(received.stale).toBe(false);
    }
    for (const subscription of subscriptions) subscription.unsubscribe();
  });

  it('one tenant never receives another tenant’s events', async () => {
    const [a, b] = [await instance(), await instance()];
    const acme = a.provider('acme', 'pik-main', IDENTITY).ref;
    const globexOnB = b.provider('globex', 'pik-main', IDENTITY).ref;
    const globexOnA = a.provider('globex', 'pik-main', IDENTITY).ref;
    const received: ProviderReadEvent[] = [];
    let done: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      done = resolve;
    });
    const subscription = b.events.subscribe(globexOnB, (event) => {
      received.push(event);
      done();
    });
    await subscription.ready;
    await a.events.publish(acme, { ok: true, currencies: null, read: read('1.00'), stale: false });
    // Published after acme's on the same connection: delivered after it, had it been delivered.
    await a.events.publish(globexOnA, {
      ok: true,
      currencies: null,
      read: read('2.00'),
      stale: false,
    });
    await arrived;
    expect(received.map((event) => (event.ok ? totalOf(event.read) : event.ok))).toEqual(['2.00']);
    subscription.unsubscribe();
  });
});

describe('every block while Redis does not answer', () => {
  it('gives "not available" within the deadline, then at once while Redis stays down', async () => {
    const cluster = await instance();
    const provider = cluster.provider('acme', 'pik-main', IDENTITY);
    const token = { value: CANARY_TOKEN, expiresAt: now() + 60_000, obtainedAt: now() };
    const operations: [string, () => Promise<{ ok: boolean }>][] = [
      ['sessions.read', () => provider.sessions.read()],
      ['sessions.write', () => provider.sessions.write(token)],
      ['sessions.lock', () => provider.sessions.lock(5000)],
      ['sessions.invalidate', () => provider.sessions.invalidate(CANARY_TOKEN)],
      ['reads.fresh', () => provider.reads.fresh('*', 1000)],
      ['reads.covering', () => provider.reads.covering('*', 1000)],
      ['reads.store', () => provider.reads.store('*', read('1.00'), 1000)],
      ['hold.until', () => provider.hold.until()],
      ['hold.holdUntil', () => provider.hold.holdUntil(T0 + 5000)],
      ['lease.hold', () => provider.lease.hold(5000)],
      [
        'events.publish',
        () =>
          cluster.events.publish(provider.ref, {
            ok: true,
            currencies: null,
            read: read('1.00'),
            stale: false,
          }),
      ],
    ];
    redis.pause();
    for (const [name, operation] of operations) {
      const outcome = await operation();
      expect({ name, outcome }).toEqual({
        name,
        outcome: { ok: false, reason: name === 'sessions.read' ? 'timeout' : 'down' },
      });
    }
    expect(cluster.link.isUp()).toBe(false);
    const up = new Promise<boolean>((resolve) => {
      const stop = cluster.link.onStateChange((next) => {
        stop();
        resolve(next);
      });
    });
    redis.resume();
    expect(await up).toBe(true);
    for (const [name, operation] of operations) {
      expect({ name, ok: (await operation()).ok }).toEqual({ name, ok: true });
    }
  });

  it('events flow again once a restarted Redis is back', async () => {
    const [a, b] = [await instance(), await instance()];
    const ref = a.provider('acme', 'pik-main', IDENTITY).ref;
    const received: string[] = [];
    let wake: () => void = () => {};
    const subscription = b.events.subscribe(ref, (event) => {
      received.push(event.ok ? (totalOf(event.read) ?? '') : 'failed');
      wake();
    });
    await subscription.ready;
    const down = new Promise<void>((resolve) => {
      const stop = a.link.onStateChange(() => {
        stop();
        resolve();
      });
    });
    await redis.stop();
    await down;
    expect(
      await a.events.publish(ref, { ok: true, currencies: null, read: read('1.00'), stale: false }),
    ).toEqual({ ok: false, reason: 'down' });
    await redis.restart();
    expect(await a.link.whenUp(5000)).toBe(true);
    // B's subscriber connection subscribes again by itself once it has reconnected.
    while (Number((await raw.pubsub('NUMSUB', ref.key('events')))[1]) < 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const arrived = new Promise<void>((resolve) => {
      wake = resolve;
    });
    expect(
      await a.events.publish(ref, { ok: true, currencies: null, read: read('2.00'), stale: false }),
    ).toEqual({ ok: true, value: 1 });
    await arrived;
    expect(received).toEqual(['2.00']);
    subscription.unsubscribe();
  });
});

describe('what Redis holds', () => {
  it('no secret, token or canary is readable in any key, value or message', async () => {
    const [a, b] = [await instance({ leaseMs: 600 }), await instance({ leaseMs: 600 })];
    const provider = a.provider('acme', 'pik-main', IDENTITY);
    const messages: string[] = [];
    const listener = new Redis(redis.url);
    await listener.psubscribe('*');
    listener.on('pmessage', (_pattern, channel, message) => messages.push(channel, message));

    const { login } = countingLogin();
    await obtainSharedSession({
      sessions: provider.sessions,
      login,
      usable: notDue,
      now,
      lockTtlMs: 5000,
    });
    await provider.reads.store('*', read('12.50', T0, `${CANARY_TOKEN} account`), 60_000);
    await provider.hold.holdUntil(T0 + 30_000);
    const keeper = provider.keepLease();
    await keeper.started;
    const sent = new Promise<void>((resolve) => {
      listener.once('pmessage', () => resolve());
    });
    await b.events.publish(b.provider('acme', 'pik-main', IDENTITY).ref, {
      ok: true,
      currencies: null,
      read: read('12.50', T0, `${CANARY_SECRET} account`),
      stale: false,
    });
    await sent;

    const everything: string[] = [...messages];
    let cursor = '0';
    do {
      const [next, keys] = await raw.scan(cursor, 'COUNT', 100);
      cursor = next;
      for (const key of keys) {
        everything.push(key);
        const type = await raw.type(key);
        if (type === 'string') everything.push((await raw.get(key)) ?? '');
        else if (type === 'hash') everything.push(...Object.entries(await raw.hgetall(key)).flat());
        else throw new Error(`unexpected ${type} at ${key}`);
      }
    } while (cursor !== '0');
    expect(everything.length).toBeGreaterThanOrEqual(10);
    const text = everything.join('\n');
    for (const secret of [
      CANARY_SECRET,
      CANARY_TOKEN,
      'canary',
      TOKEN_KEY.toString('base64'),
      TOKEN_KEY.toString('hex'),
      Buffer.from(CANARY_TOKEN).toString('base64'),
      '12.50',
    ]) {
      expect(text).not.toContain(secret);
    }
    await keeper.stop();
    listener.disconnect();
  });

  it('two tenants with the same provider and credentials never read each other’s entries', async () => {
    const cluster = await instance();
    const acme = cluster.provider('acme', 'pik-main', IDENTITY);
    const globex = cluster.provider('globex', 'pik-main', IDENTITY);
    await acme.sessions.write({
      value: CANARY_TOKEN,
      expiresAt: now() + 60_000,
      obtainedAt: now(),
    });
    await acme.reads.store('*', read('7.00'), 60_000);
    await acme.hold.holdUntil(T0 + 10_000);
    expect(await globex.sessions.read()).toEqual({ ok: true, value: undefined });
    expect(await globex.reads.fresh('*', 60_000)).toEqual({ ok: true, value: undefined });
    expect(await globex.reads.covering('*', 60_000)).toEqual({ ok: true, value: undefined });
    expect(await globex.hold.until()).toEqual({ ok: true, value: undefined });
    // Even an entry copied under the other tenant's key does not open there.
    await raw.set(globex.ref.key('session'), (await raw.get(acme.ref.key('session'))) as string);
    await raw.hset(
      globex.ref.key('read'),
      '*',
      (await raw.hget(acme.ref.key('read'), '*')) as string,
    );
    expect(await globex.sessions.read()).toEqual({ ok: true, value: undefined });
    expect(await globex.reads.fresh('*', 60_000)).toEqual({ ok: true, value: undefined });
    expect(await acme.sessions.read()).toEqual({
      ok: true,
      value: { value: CANARY_TOKEN, expiresAt: now() + 60_000, obtainedAt: now() },
    });
  });

  it('a changed configuration never meets the old one’s session', async () => {
    const cluster = await instance();
    const before = cluster.provider('acme', 'pik-main', IDENTITY);
    await before.sessions.write({
      value: CANARY_TOKEN,
      expiresAt: now() + 60_000,
      obtainedAt: now(),
    });
    const rotated = cluster.provider('acme', 'pik-main', {
      ...IDENTITY,
      credentials: { ...IDENTITY.credentials, appSecret: 'rotated-secret' },
    });
    const moved = cluster.provider('acme', 'pik-main', {
      ...IDENTITY,
      baseUrl: 'https://pik2.example',
    });
    expect(await rotated.sessions.read()).toEqual({ ok: true, value: undefined });
    expect(await moved.sessions.read()).toEqual({ ok: true, value: undefined });
  });
});

async function unwrap<T>(pending: Promise<{ ok: true; value: T } | { ok: false }>): Promise<T> {
  const outcome = await pending;
  if (!outcome.ok) throw new Error('Redis did not answer');
  return outcome.value;
}
