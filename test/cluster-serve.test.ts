import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import {
  BUILT_IN_KINDS,
  DASHBOARD_QUERY,
  demoConfigDocument,
  type GraphQLResult,
  loginCalls,
} from './helpers/app.js';
import { clusterSection, newTokenKey, rawRedis, TOKEN_KEY_ENV } from './helpers/cluster.js';
import { type SseSubscription, subscribeSse } from './helpers/live.js';
import { sampleValue, scrape } from './helpers/metrics.js';
import { type RunningCommand, startCommand } from './helpers/process.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

/**
 * The real `balance-api serve`, three processes with one configuration file, against one sandbox
 * and one redis-server: what a deployment of several instances runs.
 */

const RECORDER = new URL('./helpers/record-modules.mjs', import.meta.url).pathname;
const CJS_RECORDER = new URL('./helpers/record-required.cjs', import.meta.url).pathname;
const LEASE_MS = 1200;

interface Instance {
  command: RunningCommand;
  origin: string;
}

async function serveInstance(configPath: string, env: Record<string, string>): Promise<Instance> {
  const command = startCommand(['serve', '--port', '0', '--config', configPath], env);
  const [, origin] = await command.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
  return { command, origin: origin as string };
}

async function query(instance: Instance, text: string): Promise<GraphQLResult> {
  const response = await fetch(`${instance.origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: text }),
  });
  return (await response.json()) as GraphQLResult;
}

async function redisUp(instance: Instance): Promise<number | undefined> {
  const { samples } = await scrape(instance.origin);
  return sampleValue(samples, 'balance_api_cluster_redis_up');
}

describe('three balance-api serve processes on one Redis', () => {
  let redis: TestRedis;
  let raw: Redis;
  let sandbox: Sandbox;
  let data: SandboxData;
  let configPath: string;
  const tokenKey = newTokenKey();
  const running: Instance[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    raw = rawRedis(redis.url);
    data = createDemoSandboxData();
    sandbox = await startSandbox({ data });
    const dir = mkdtempSync(join(tmpdir(), 'balance-cluster-serve-'));
    configPath = join(dir, 'balance-api.json');
    const baseUrl = (kind: string) => `${sandbox.origin}/${kind}`;
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: demoConfigDocument(baseUrl, BUILT_IN_KINDS).providers.map((provider) => ({
          ...provider,
          pollIntervalMs: 200,
        })),
        cluster: clusterSection({ redisUrl: redis.url, tokenKey, leaseMs: LEASE_MS }),
      }),
    );
    running.push(
      ...(await Promise.all(
        [1, 2, 3].map(() => serveInstance(configPath, { [TOKEN_KEY_ENV]: tokenKey })),
      )),
    );
  });

  afterAll(async () => {
    await Promise.all(running.map((instance) => instance.command.stop()));
    raw?.disconnect();
    await redis?.close();
    await sandbox?.close();
  });

  it('30 concurrent cold dashboards spread over them: one login per portable provider, at most one per process for merchant', async () => {
    for (const instance of running) expect(await redisUp(instance)).toBe(1);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        query(running[index % 3] as Instance, DASHBOARD_QUERY),
      ),
    );
    for (const result of results) {
      expect(result.errors).toBeUndefined();
      expect(result.data?.totals).toMatchObject({ complete: true, missingProviders: [] });
    }
    expect(loginCalls(sandbox, 'pik')).toHaveLength(1);
    expect(loginCalls(sandbox, 'asset-accounts')).toHaveLength(1);
    expect(loginCalls(sandbox, 'merchant').length).toBeLessThanOrEqual(3);
    // The shared session, sealed: its key names no secret.
    const keys = await raw.keys('balance-api:session:*');
    expect(keys.map((key) => key.split(':').slice(1, 4).join(':')).sort()).toEqual([
      'session:default:ops',
      'session:default:pik-main',
    ]);
  });

  it('Redis stopped: every query still answered, balance_api_cluster_redis_up 0; restarted: 1', async () => {
    await redis.stop();
    const results = await Promise.all(
      Array.from({ length: 9 }, (_, index) =>
        query(running[index % 3] as Instance, DASHBOARD_QUERY),
      ),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    for (const instance of running) {
      await vi.waitFor(async () => expect(await redisUp(instance)).toBe(0), { interval: 10 });
    }
    await redis.restart();
    for (const instance of running) {
      await vi.waitFor(async () => expect(await redisUp(instance)).toBe(1), {
        timeout: 10_000,
        interval: 20,
      });
    }
    // Each process told it once each way; no error line.
    for (const instance of running) {
      expect(instance.command.stdout()).toContain('this instance works alone');
      expect(instance.command.stdout()).toContain('this instance rejoins the cluster');
      expect(instance.command.stderr()).toBe('');
    }
  });

  it('the polling process is killed: another takes over within one lease period and its subscribers get the events', async () => {
    const EVENTS = `subscription {
      balanceEvents(providerIds: ["pik-main"], currencies: ["EUR"]) { kind balance { total } }
    }`;
    const eur = data.pik.customers[0]?.records[1];
    if (eur?.currencyCode !== 'EUR') throw new Error('demo data changed');
    eur.balance = '10.00';
    const subscriptions: SseSubscription[] = [];
    const next = async (subscription: SseSubscription) =>
      (await subscription.next()).data?.balanceEvents as { kind: string; balance: unknown };
    try {
      const [first, ...others] = running as [Instance, Instance, Instance];
      // The first process with a subscriber takes the lease.
      subscriptions.push(await subscribeSse(`${first.origin}/graphql`, EVENTS));
      expect(await next(subscriptions[0] as SseSubscription)).toMatchObject({ kind: 'SNAPSHOT' });
      const leaseKey = async () => (await raw.keys('balance-api:lease:default:pik-main:*'))[0];
      await vi.waitFor(async () => expect(await leaseKey()).toBeDefined(), { interval: 10 });
      const holder = await raw.get((await leaseKey()) as string);
      for (const other of others) {
        const subscription = await subscribeSse(`${other.origin}/graphql`, EVENTS);
        subscriptions.push(subscription);
        expect(await next(subscription)).toMatchObject({ kind: 'SNAPSHOT' });
      }

      first.command.child.kill('SIGKILL');
      await first.command.exited;
      await vi.waitFor(
        async () => {
          const key = await leaseKey();
          expect(key === undefined ? null : await raw.get(key)).not.toBeNull();
          expect(await raw.get(key as string)).not.toBe(holder);
        },
        { timeout: LEASE_MS, interval: 10 },
      );
      eur.balance = '11.00';
      for (const subscription of subscriptions.slice(1)) {
        expect(await next(subscription)).toEqual({ kind: 'CHANGED', balance: { total: '11.00' } });
      }
    } finally {
      for (const subscription of subscriptions) subscription.close();
    }
  });
});

describe('balance-api serve with Redis down at start', () => {
  it('starts and serves alone, then joins the cluster once Redis answers', async () => {
    const redis = await startTestRedis();
    const sandbox = await startSandbox();
    await redis.stop();
    const dir = mkdtempSync(join(tmpdir(), 'balance-cluster-late-redis-'));
    const configPath = join(dir, 'balance-api.json');
    const tokenKey = newTokenKey();
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: demoConfigDocument((kind) => `${sandbox.origin}/${kind}`, ['pik']).providers,
        cluster: clusterSection({ redisUrl: redis.url, tokenKey }),
      }),
    );
    const instance = await serveInstance(configPath, { [TOKEN_KEY_ENV]: tokenKey });
    try {
      expect(instance.command.stdout()).toContain('Redis cannot be reached');
      const result = await query(instance, DASHBOARD_QUERY);
      expect(result.errors).toBeUndefined();
      expect(await redisUp(instance)).toBe(0);
      await redis.restart();
      await vi.waitFor(async () => expect(await redisUp(instance)).toBe(1), {
        timeout: 10_000,
        interval: 20,
      });
      expect(instance.command.stdout()).toContain('this instance rejoins the cluster');
    } finally {
      await instance.command.stop();
      await redis.close();
      await sandbox.close();
    }
  });
});

/** The modules `balance-api serve` loads (ES and CommonJS), the process scraped once. */
async function modulesLoadedByServe(
  document: Record<string, unknown>,
  env: Record<string, string> = {},
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'balance-cluster-modules-'));
  const log = join(dir, 'modules.log');
  const required = join(dir, 'required.log');
  writeFileSync(log, '');
  writeFileSync(required, '');
  const configPath = join(dir, 'balance-api.json');
  writeFileSync(configPath, JSON.stringify(document));
  const instance = await serveInstance(configPath, {
    NODE_OPTIONS: `--import=${RECORDER} --require=${CJS_RECORDER}`,
    BALANCE_API_MODULE_LOG: log,
    BALANCE_API_REQUIRED_LOG: required,
    ...env,
  });
  try {
    expect((await scrape(instance.origin)).status).toBe(200);
  } finally {
    await instance.command.stop();
  }
  expect(await instance.command.exited).toBe(0);
  return [...readFileSync(log, 'utf8').split('\n'), ...readFileSync(required, 'utf8').split('\n')];
}

const ONE_PROVIDER = {
  providers: [
    {
      id: 'sms',
      kind: 'prepaid',
      baseUrl: 'http://127.0.0.1:9/prepaid',
      credentials: { devKey: 'k', devSecret: 's' },
    },
  ],
};

const isClusterModule = (path: string) =>
  path.includes('/dist/cluster/') || path.includes('/node_modules/ioredis/');

describe('without cluster', () => {
  it('nothing of src/cluster or ioredis is loaded; with it, both are', async () => {
    const alone = await modulesLoadedByServe(ONE_PROVIDER);
    expect(alone.some((path) => path.endsWith('/dist/serve.js'))).toBe(true);
    expect(alone.some((path) => path.includes('/node_modules/undici/'))).toBe(true);
    expect(alone.filter(isClusterModule)).toEqual([]);

    const redis = await startTestRedis();
    try {
      const tokenKey = newTokenKey();
      const clustered = await modulesLoadedByServe(
        { ...ONE_PROVIDER, cluster: clusterSection({ redisUrl: redis.url, tokenKey }) },
        { [TOKEN_KEY_ENV]: tokenKey },
      );
      expect(clustered.some((path) => path.includes('/dist/cluster/create-cluster.js'))).toBe(true);
      expect(clustered.some((path) => path.includes('/node_modules/ioredis/'))).toBe(true);
    } finally {
      await redis.close();
    }
  });
});

describe("the README's example deployment", () => {
  const folder = new URL('./fixtures/cluster-deployment/', import.meta.url).pathname;
  const configText = readFileSync(join(folder, 'balance-api.json'), 'utf8');

  it('has a configuration the real parser accepts, with the secrets its compose file provides', async () => {
    const { parse } = await import('yaml');
    // Merge keys (<<) as docker compose reads them.
    const compose = parse(readFileSync(join(folder, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<
        string,
        { environment?: Record<string, string>; volumes?: string[]; ports?: string[] }
      >;
    };
    const instances = Object.entries(compose.services).filter(([name]) =>
      name.startsWith('balance-api'),
    );
    expect(instances.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(compose.services)).toContain('redis');
    const secrets = [...configText.matchAll(/\{ "env": "([A-Z_]+)" \}/g)].map((match) => match[1]);
    const files = [...configText.matchAll(/\{ "file": "([^"]+)" \}/g)].map((match) => match[1]);
    for (const [, service] of instances) {
      const environment = service.environment ?? {};
      // Every secret the file names is in every instance's environment...
      for (const name of secrets) expect(Object.keys(environment)).toContain(name);
      // ...Redis is the compose file's, the configuration is mounted where it is looked for.
      expect(environment.REDIS_URL).toBe('redis://redis:6379');
      const mounts = (service.volumes ?? []).map((volume) => volume.split(':')[1]);
      expect(mounts).toContain(environment.BALANCE_API_CONFIG);
      for (const file of files) expect(mounts).toContain(file);
    }

    const dir = mkdtempSync(join(tmpdir(), 'balance-cluster-example-'));
    const otp = join(dir, 'ops-otp');
    writeFileSync(otp, 'JBSWY3DPEHPK3PXP\n');
    const document = JSON.parse(configText.replace('/run/secrets/ops-otp', otp));
    const config = parseConfig(document, {
      source: 'balance-api.json',
      env: {
        REDIS_URL: 'redis://redis:6379',
        BALANCE_API_TOKEN_KEY: newTokenKey(),
        PIK_APP_SECRET: 'p',
        OPS_PASSWORD: 'o',
        MERCHANT_SECRET: 'm',
      },
      baseDir: dirname(otp),
    });
    expect(config.cluster).toMatchObject({
      redis: { url: 'redis://redis:6379', timeoutMs: 250 },
      keyPrefix: 'balance-api:',
      leaseMs: 10_000,
    });
    expect(config.cluster?.tokenKey).toHaveLength(32);
    expect(config.tenants[0]?.providers.map((provider) => provider.id)).toEqual([
      'pik-main',
      'ops',
      'acquirer',
    ]);
    // Listening on every address is allowed because callers must authenticate.
    expect(config.auth?.apiKeys).toHaveLength(1);
  });
});
