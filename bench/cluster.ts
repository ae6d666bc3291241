import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startTestRedis } from '../test/helpers/redis.js';
import {
  buildDist,
  dashboardProviders,
  LAUNCHER_FLAGS,
  load,
  median,
  type Running,
  SERVING,
  sandboxStats,
  serveArgs,
  startProcess,
  startSandboxProcess,
} from './processes.js';

const TOKEN_KEY_ENV = 'BALANCE_API_TOKEN_KEY';

export interface ClusterBenchOptions {
  /** How many instances (`--cluster N`). */
  instances: number;
  /** Seconds of load per measurement; the cluster's is at least 10. */
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  /** The sandbox's latency (ms). */
  latencyMs: number;
  /** Connections, spread over the instances; 50 by default. */
  concurrency: number;
  /** Every provider's `cacheTtlMs`; 1000. */
  cacheTtlMs: number;
}

/** Starts a process (balance-api with the launcher's flags) and waits for where it listens. */
function start(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  return startProcess(args, pattern, { flags: args[1] === 'sandbox' ? [] : LAUNCHER_FLAGS, env });
}

/** The dashboard's providers on the sandbox (the demo tenant without its second prepaid). */
function writeConfig(
  sandboxUrl: string,
  cacheTtlMs: number,
  cluster: { redisUrl: string } | undefined,
): string {
  const providers = dashboardProviders(sandboxUrl).map((provider) => ({ ...provider, cacheTtlMs }));
  const dir = mkdtempSync(join(tmpdir(), 'balance-bench-cluster-'));
  const path = join(dir, 'config.json');
  writeFileSync(
    path,
    JSON.stringify({
      server: { logLevel: 'warn' },
      providers,
      ...(cluster === undefined
        ? {}
        : {
            cluster: {
              redis: { url: cluster.redisUrl },
              tokenKey: { env: TOKEN_KEY_ENV },
            },
          }),
    }),
  );
  return path;
}

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

export async function runCluster(options: ClusterBenchOptions): Promise<void> {
  buildDist();
  const sandbox = await startSandboxProcess(options.latencyMs);
  const redis = await startTestRedis();
  const raw = new Redis(redis.url);
  const env = { [TOKEN_KEY_ENV]: randomBytes(32).toString('base64') };
  const aloneConfig = writeConfig(sandbox.url, options.cacheTtlMs, undefined);
  const clusterConfig = writeConfig(sandbox.url, options.cacheTtlMs, { redisUrl: redis.url });
  try {
    // The cluster, cold: its logins and its reads across the instances.
    await raw.flushall();
    const instances = await Promise.all(
      Array.from({ length: options.instances }, () =>
        start(serveArgs(clusterConfig), SERVING, env),
      ),
    );
    await sandboxStats(sandbox.url, true);
    const seconds = Math.max(10, options.seconds);
    const shares = instances.map(
      (_, index) =>
        Math.floor(options.concurrency / instances.length) +
        (index < options.concurrency % instances.length ? 1 : 0),
    );
    const results = await Promise.all(
      instances.map((instance, index) => load(instance.url, shares[index] as number, seconds)),
    );
    const stats = await sandboxStats(sandbox.url);
    for (const instance of instances) await instance.stop();
    const duration = Math.max(...results.map((result) => result.duration));
    const requests = results.reduce((total, result) => total + result.requests.total, 0);
    const cluster = {
      instances: options.instances,
      concurrency: options.concurrency,
      seconds: round(duration, 1),
      requestsPerSecond: round(requests / duration, 1),
      errors: results.reduce((total, result) => total + result.errors, 0),
      non2xx: results.reduce((total, result) => total + result.non2xx, 0),
      // One provider of each kind: reads and logins per kind are per provider.
      upstreamReads: Object.fromEntries(
        Object.entries(stats).map(([kind, counts]) => [kind, counts.reads]),
      ),
      upstreamReadsPerProviderPerSecond: Object.fromEntries(
        Object.entries(stats).map(([kind, counts]) => [kind, round(counts.reads / duration)]),
      ),
      logins: Object.fromEntries(
        Object.entries(stats)
          .filter(([, counts]) => counts.logins > 0)
          .map(([kind, counts]) => [kind, counts.logins]),
      ),
    };
    console.log(JSON.stringify({ cluster }));

    // One instance in cluster mode against the same instance alone, one loaded at a time.
    await raw.flushall();
    const alone = await start(serveArgs(aloneConfig), SERVING);
    const clustered = await start(serveArgs(clusterConfig), SERVING, env);
    const rounds: { alone: number; cluster: number; ratio: number }[] = [];
    for (let index = 0; index < options.rounds; index += 1) {
      const measured: number[] = [];
      for (const server of [alone, clustered]) {
        if (index === 0) await load(server.url, options.concurrency, options.warmupSeconds);
        const result = await load(server.url, options.concurrency, options.seconds);
        measured.push(result.requests.total / result.duration);
      }
      const [a = 0, c = 0] = measured;
      rounds.push({ alone: round(a, 1), cluster: round(c, 1), ratio: round(c / a) });
      console.log(JSON.stringify({ round: index, ...rounds.at(-1) }));
    }
    await alone.stop();
    await clustered.stop();
    const throughput = {
      concurrency: options.concurrency,
      aloneRequestsPerSecond: round(median(rounds.map((r) => r.alone)), 1),
      clusterRequestsPerSecond: round(median(rounds.map((r) => r.cluster)), 1),
      ratio: median(rounds.map((r) => r.ratio)),
      rounds,
    };

    const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node ${process.version}`;
    const report = {
      date: new Date().toISOString(),
      machine,
      latencyMs: options.latencyMs,
      cacheTtlMs: options.cacheTtlMs,
      cluster,
      throughput,
    };
    writeFileSync(
      new URL('./results/cluster.json', import.meta.url),
      `${JSON.stringify(report, null, 2)}\n`,
    );
    console.log(
      [
        '',
        `cluster of ${cluster.instances}, concurrency ${cluster.concurrency} spread over them, cacheTtlMs ${options.cacheTtlMs}, sandbox latency ${options.latencyMs} ms, ${cluster.seconds} s (${machine}):`,
        `  ${cluster.requestsPerSecond} req/s in all, ${cluster.errors} errors, ${cluster.non2xx} non-2xx`,
        `  upstream reads per provider per second, cluster-wide (target <= 1): ${Object.entries(
          cluster.upstreamReadsPerProviderPerSecond,
        )
          .map(([kind, value]) => `${kind} ${value}`)
          .join(', ')}`,
        `  logins (target 1 per portable provider; merchant per instance): ${Object.entries(
          cluster.logins,
        )
          .map(([kind, value]) => `${kind} ${value}`)
          .join(', ')}`,
        `one instance, concurrency ${throughput.concurrency}, median of ${options.rounds} rounds of ${options.seconds} s: alone ${throughput.aloneRequestsPerSecond} req/s, in cluster mode ${throughput.clusterRequestsPerSecond} req/s: ${throughput.ratio}x (target >= 0.9)`,
        'wrote bench/results/cluster.json',
      ].join('\n'),
    );
  } finally {
    raw.disconnect();
    await redis.close();
    await sandbox.stop();
  }
}
