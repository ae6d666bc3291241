import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProviderReadEvent } from '../src/provider-events.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { balanceCalls, demoConfigWith } from './helpers/app.js';
import {
  type ClusterInstance,
  newTokenKey,
  rawRedis,
  startClusterInstance,
} from './helpers/cluster.js';
import {
  balanceEventOf,
  PIK_BALANCE_EVENTS,
  type SseSubscription,
  subscribeSse,
} from './helpers/live.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

/**
 * Subscriptions across the instances of a cluster: one instance polls a provider for all of them
 * (the polling lease), and the events of what it reads reach subscribers on every instance. The
 * pollers run on timers the test moves; the lease on real ones.
 */

const INTERVAL_MS = 1000;

let redis: TestRedis;
let raw: Redis;
let sandbox: Sandbox;
let data: SandboxData;
const instances: ClusterInstance[] = [];
const subscriptions: SseSubscription[] = [];
const tokenKey = newTokenKey();

beforeAll(async () => {
  redis = await startTestRedis();
  raw = rawRedis(redis.url);
  data = createDemoSandboxData();
  sandbox = await startSandbox({ data });
});

beforeEach(async () => {
  if (redis.pid() === undefined) await redis.restart();
  await raw.flushall();
  sandbox.clearCalls();
});

afterEach(async () => {
  for (const subscription of subscriptions.splice(0)) subscription.close();
  await Promise.all(instances.splice(0).map((instance) => instance.close()));
});

afterAll(async () => {
  raw?.disconnect();
  await redis?.close();
  await sandbox?.close();
});

async function startInstances(count: number, leaseMs?: number): Promise<ClusterInstance[]> {
  const started: ClusterInstance[] = [];
  // One after the other: the first to have a subscriber takes the lease.
  for (let index = 0; index < count; index += 1) {
    const instance = await startClusterInstance({
      sandbox,
      redisUrl: redis.url,
      tokenKey,
      ...(leaseMs === undefined ? {} : { leaseMs }),
      configDocument: demoConfigWith({ pollIntervalMs: INTERVAL_MS }, ['pik']),
    });
    instances.push(instance);
    started.push(instance);
  }
  return started;
}

/** A subscriber of pik-main's EUR balance on `instance`, past its SNAPSHOT. */
async function subscriber(instance: ClusterInstance, total: string): Promise<SseSubscription> {
  const subscription = await subscribeSse(instance.url, PIK_BALANCE_EVENTS, {
    currencies: ['EUR'],
  });
  subscriptions.push(subscription);
  expect(await balanceEventOf(subscription)).toMatchObject({
    kind: 'SNAPSHOT',
    balance: { total },
  });
  return subscription;
}

const eur = () => {
  const record = data.pik.customers[0]?.records[1];
  if (record?.currencyCode !== 'EUR') throw new Error('demo data changed');
  return record;
};

/** The instance id holding pik-main's polling lease, if any. */
async function leaseHolder(): Promise<string | null> {
  const [key] = await raw.keys('balance-api:lease:default:pik-main:*');
  return key === undefined ? null : raw.get(key);
}

/** Resolves with the next read of pik-main that `instance` hears, its own or another's. */
function nextRead(instance: ClusterInstance): Promise<ProviderReadEvent> {
  return new Promise((resolve) => {
    const stop = instance.provider('pik-main').onRead((event) => {
      stop();
      resolve(event);
    });
  });
}

/** Moves every instance's pollers by one interval, once each has its next poll on its timers. */
async function oneInterval(of: readonly ClusterInstance[]): Promise<void> {
  for (const instance of of) {
    await vi.waitFor(() => expect(instance.timers.pending()).toBe(1), { interval: 1 });
  }
  for (const instance of of) instance.timers.advance(INTERVAL_MS);
}

describe('subscriptions across instances', () => {
  it('a subscriber on C gets the event of a change polled by A; one poll per interval cluster-wide', async () => {
    const [a, b, c] = await startInstances(3);
    if (a === undefined || b === undefined || c === undefined) throw new Error('not started');
    eur().balance = '9007199254740993.01';
    const onA = await subscriber(a, '9007199254740993.01');
    await vi.waitFor(async () => expect(await leaseHolder()).toBe(a.cluster.link.instanceId), {
      interval: 5,
    });
    const onB = await subscriber(b, '9007199254740993.01');
    const onC = await subscriber(c, '9007199254740993.01');
    // Each instance's first read gave its subscriber's SNAPSHOT; from now on A polls alone.
    sandbox.clearCalls();
    for (let round = 1; round <= 3; round += 1) {
      const total = `9007199254740993.0${round + 1}`;
      const previous = eur().balance;
      eur().balance = total;
      const heard = Promise.all([nextRead(b), nextRead(c)]);
      await oneInterval([a, b, c]);
      const events = await heard;
      // The event B and C heard is A's read, as A read it.
      for (const event of events) expect(event.ok).toBe(true);
      for (const subscription of [onC, onB, onA]) {
        expect(await balanceEventOf(subscription)).toEqual({
          kind: 'CHANGED',
          currency: 'EUR',
          balance: { total, stale: false },
          previous: { total: previous },
        });
      }
      expect(balanceCalls(sandbox, 'pik')).toHaveLength(round);
    }
  });

  it('the polling instance dies: another takes over within one lease period, and polls once per interval', async () => {
    const leaseMs = 1200;
    const [a, b, c] = await startInstances(3, leaseMs);
    if (a === undefined || b === undefined || c === undefined) throw new Error('not started');
    eur().balance = '1.00';
    await subscriber(a, '1.00');
    await vi.waitFor(async () => expect(await leaseHolder()).toBe(a.cluster.link.instanceId), {
      interval: 5,
    });
    const onB = await subscriber(b, '1.00');
    const onC = await subscriber(c, '1.00');

    // Killed: it gives nothing up; its lease lapses.
    await a.kill();
    const others = [b.cluster.link.instanceId, c.cluster.link.instanceId];
    await vi.waitFor(async () => expect(others).toContain(await leaseHolder()), {
      timeout: leaseMs,
      interval: 10,
    });

    sandbox.clearCalls();
    eur().balance = '2.00';
    await oneInterval([b, c]);
    for (const subscription of [onB, onC]) {
      expect(await balanceEventOf(subscription)).toMatchObject({
        kind: 'CHANGED',
        balance: { total: '2.00' },
        previous: { total: '1.00' },
      });
    }
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(1);
  });

  it('while Redis is down every instance polls for its own subscribers; back, one polls again', async () => {
    const [a, b] = await startInstances(2);
    if (a === undefined || b === undefined) throw new Error('not started');
    eur().balance = '5.00';
    const onA = await subscriber(a, '5.00');
    await vi.waitFor(async () => expect(await leaseHolder()).toBe(a.cluster.link.instanceId), {
      interval: 5,
    });
    const onB = await subscriber(b, '5.00');

    await redis.stop();
    await vi.waitFor(() => expect(b.cluster.link.isUp()).toBe(false), { interval: 5 });
    sandbox.clearCalls();
    eur().balance = '6.00';
    await oneInterval([a, b]);
    for (const subscription of [onA, onB]) {
      expect(await balanceEventOf(subscription)).toMatchObject({
        kind: 'CHANGED',
        balance: { total: '6.00' },
      });
    }
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(2);

    await redis.restart();
    for (const instance of [a, b]) {
      await vi.waitFor(() => expect(instance.cluster.link.isUp()).toBe(true), {
        timeout: 5000,
        interval: 10,
      });
    }
    const holders = [a.cluster.link.instanceId, b.cluster.link.instanceId];
    await vi.waitFor(async () => expect(holders).toContain(await leaseHolder()), {
      timeout: 5000,
      interval: 10,
    });
    // Each contends for the lease as soon as Redis answers: one polls, the other no more.
    await vi.waitFor(
      () => {
        const polling = [a, b].map((instance) => instance.provider('pik-main').cluster?.polls());
        expect(polling.sort()).toEqual([false, true]);
      },
      { timeout: 5000, interval: 5 },
    );
    sandbox.clearCalls();
    eur().balance = '7.00';
    await oneInterval([a, b]);
    for (const subscription of [onA, onB]) {
      expect(await balanceEventOf(subscription)).toMatchObject({
        kind: 'CHANGED',
        balance: { total: '7.00' },
      });
    }
    expect(balanceCalls(sandbox, 'pik')).toHaveLength(1);
  });
});
