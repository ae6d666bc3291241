import type { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLink, type RedisLink } from '../src/cluster/redis-link.js';
import { createMetrics } from '../src/metrics/registry.js';
import { captureLogs } from './helpers/log-capture.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const TIMEOUT_MS = 200;

let redis: TestRedis;
const links: RedisLink[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterEach(async () => {
  for (const link of links.splice(0)) link.close();
  redis.resume();
  if (redis.pid() === undefined) await redis.restart();
});

afterAll(async () => {
  await redis?.close();
});

function connect(url = redis.url) {
  const { log, lines } = captureLogs('info');
  const link = createRedisLink({
    url,
    timeoutMs: TIMEOUT_MS,
    log,
    probeIntervalMs: 20,
    maxReconnectDelayMs: 50,
  });
  links.push(link);
  return { link, lines };
}

/** Resolves with the next transition of the link. */
function nextTransition(link: RedisLink): Promise<boolean> {
  return new Promise((resolve) => {
    const stop = link.onStateChange((up) => {
      stop();
      resolve(up);
    });
  });
}

/** An app's metrics registry watching the link, as the runtime registers it with a cluster. */
function redisUpRegistry(link: RedisLink): Registry {
  const metrics = createMetrics();
  metrics.watchClusterRedis(() => link.isUp());
  return metrics.registry;
}

async function scrape(registry: Registry): Promise<string> {
  return (await registry.getSingleMetricAsString('balance_api_cluster_redis_up')).trim();
}

describe('the Redis link', () => {
  it('is up once Redis answers, and runs operations', async () => {
    const { link, lines } = connect();
    expect(await link.whenUp(5000)).toBe(true);
    expect(link.isUp()).toBe(true);
    expect(await link.run((r) => r.set('balance-api-test:k', 'v'))).toEqual({
      ok: true,
      value: 'OK',
    });
    expect(await link.run((r) => r.get('balance-api-test:k'))).toEqual({ ok: true, value: 'v' });
    const registry = redisUpRegistry(link);
    expect(await scrape(registry)).toMatch(/^balance_api_cluster_redis_up 1$/m);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      'cluster: connected to Redis; sessions, reads, events and rate limits are shared',
    ]);
  });

  it('gives "not available" at the deadline when Redis stops answering, then at once, and rejoins', async () => {
    const { link, lines } = connect();
    await link.whenUp(5000);
    const registry = redisUpRegistry(link);
    lines.length = 0;

    redis.pause();
    const down = nextTransition(link);
    const started = performance.now();
    const outcome = await link.run((r) => r.get('balance-api-test:k'));
    const waited = performance.now() - started;
    expect(outcome).toEqual({ ok: false, reason: 'timeout' });
    // The deadline and a little: never the seconds a hung connection would take.
    expect(waited).toBeLessThan(TIMEOUT_MS + 300);
    expect(await down).toBe(false);
    expect(link.isUp()).toBe(false);
    expect(await scrape(registry)).toMatch(/^balance_api_cluster_redis_up 0$/m);

    // While down, nothing is sent: every caller goes on alone at once.
    const many = await Promise.all(
      Array.from({ length: 20 }, () => link.run((r) => r.get('balance-api-test:k'))),
    );
    expect(new Set(many.map((each) => JSON.stringify(each)))).toEqual(
      new Set([JSON.stringify({ ok: false, reason: 'down' })]),
    );

    const up = nextTransition(link);
    redis.resume();
    expect(await up).toBe(true);
    expect(await link.run((r) => r.ping())).toEqual({ ok: true, value: 'PONG' });
    expect(await scrape(registry)).toMatch(/^balance_api_cluster_redis_up 1$/m);
    // One line per transition, however many operations failed; nothing of the URL.
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      `cluster: Redis did not answer within ${TIMEOUT_MS} ms; this instance works alone until Redis answers again`,
      'cluster: Redis answers again; this instance rejoins the cluster',
    ]);
    expect(lines.map((line) => JSON.parse(line).level)).toEqual([40, 30]);
  });

  it('is down while Redis is stopped and rejoins when it is started again', async () => {
    const { link, lines } = connect();
    await link.whenUp(5000);
    lines.length = 0;
    const down = nextTransition(link);
    await redis.stop();
    expect(await down).toBe(false);
    expect(await link.run((r) => r.ping())).toEqual({ ok: false, reason: 'down' });

    const up = nextTransition(link);
    await redis.restart();
    expect(await up).toBe(true);
    expect(await link.run((r) => r.ping())).toEqual({ ok: true, value: 'PONG' });
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      'cluster: the connection to Redis was lost; this instance works alone until Redis answers again',
      'cluster: Redis answers again; this instance rejoins the cluster',
    ]);
  });

  it('never throws: an error answer or a throwing operation is a failure, and Redis stays up', async () => {
    const { link } = connect();
    await link.whenUp(5000);
    await link.run((r) => r.set('balance-api-test:string', 'x'));
    expect(await link.run((r) => r.hget('balance-api-test:string', 'field'))).toEqual({
      ok: false,
      reason: 'failed',
    });
    expect(
      await link.run(() => {
        throw new Error('a bug in an operation');
      }),
    ).toEqual({ ok: false, reason: 'failed' });
    expect(link.isUp()).toBe(true);
  });

  it('starts down when Redis cannot be reached, and says so once', async () => {
    const nobody = await startTestRedis();
    const url = nobody.url;
    await nobody.close();
    const { link, lines } = connect(url);
    const down = nextTransition(link);
    expect(await down).toBe(false);
    expect(await link.run((r) => r.ping())).toEqual({ ok: false, reason: 'down' });
    expect(await link.whenUp(50)).toBe(false);
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual([
      'cluster: Redis cannot be reached; this instance works alone until Redis answers again',
    ]);
  });
});
