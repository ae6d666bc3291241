/**
 * `npm run bench -- --cluster 3`: several balance-api instances acting as one through Redis.
 *
 * - The sandbox simulators run in their own process (`balance-api sandbox`, a fixed latency), a
 *   redis-server of the bench's own on a loopback port (no persistence, as the tests start it),
 *   and each balance-api instance in its own process (`balance-api serve`, the launcher's Node
 *   flags), every provider with `cacheTtlMs` 1000 and the same `cluster` section.
 * - The cluster: N cold instances (Redis empty), the dashboard query at concurrency 50 spread
 *   over them (one autocannon per instance, the connections split) for `--seconds` (at least 10).
 *   The sandbox counts every login and read.
 * - Throughput: one instance in cluster mode against the same instance alone (no `cluster`), the
 *   same load on one process at a time, interleaved over `--rounds` rounds after a warm-up.
 *
 * Prints, and writes to bench/results/cluster.json: upstream reads per provider per second across
 * the cluster (target at most 1), logins per provider (target 1 for the portable kinds; merchant's
 * sessions stay per instance, so at most N), and the throughput ratio (target at least 0.9). A
 * benchmark: nothing is asserted. BENCHMARKS.md is not written here.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { startTestRedis } from '../test/helpers/redis.js';
import {
  buildDist,
  LAUNCHER_FLAGS,
  ROOT,
  type Running,
  sandboxStats,
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

const BODY = JSON.stringify({
  query: readFileSync(new URL('../schema/operations/dashboard.graphql', import.meta.url), 'utf8'),
});

function load(url: string, connections: number, duration: number) {
  return autocannon({
    url,
    connections,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
  });
}

/** The dashboard's providers on the sandbox (the demo tenant without its second prepaid). */
function writeConfig(
  sandboxUrl: string,
  cacheTtlMs: number,
  cluster: { redisUrl: string } | undefined,
): string {
  const demo = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createDemoConfigDocument } from './dist/sandbox/demo.js'; console.log(JSON.stringify(createDemoConfigDocument((kind) => '${sandboxUrl}/' + kind, ['pik', 'asset-accounts', 'merchant', 'wallet', 'prepaid'])))`,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    ),
  ) as { providers: { id: string; kind: string }[] };
  const providers = demo.providers
    .filter((provider) => provider.id !== 'voice')
    .map((provider) => ({ ...provider, cacheTtlMs }));
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const SERVE = (config: string) => [
  'bin/balance-api.js',
  'serve',
  '--config',
  config,
  '--port',
  '0',
];
const LISTENING = /GraphiQL at (http:\/\/\S+\/graphql)/;

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
      Array.from({ length: options.instances }, () => start(SERVE(clusterConfig), LISTENING, env)),
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
    const alone = await start(SERVE(aloneConfig), LISTENING);
    const clustered = await start(SERVE(clusterConfig), LISTENING, env);
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
