/**
 * `npm run bench`: the dashboard query against the sandbox, over HTTP, at a few concurrencies.
 * Prints requests/s, p50/p99 latency, upstream balance calls per GraphQL request per provider and
 * the process's peak RSS. A benchmark, not a test: nothing here asserts a time.
 *
 * Options: --requests N (per concurrency, default 400), --concurrency 1,10,50.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { parseConfig } from '../src/config.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { startSandbox } from '../src/sandbox/index.js';
import { startBalanceServer } from '../src/server.js';
import { createAppRuntime } from '../src/tenants.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '1,10,50' },
  },
});
const total = Number(values.requests);
const levels = values.concurrency.split(',').map(Number);
const query = readFileSync(
  new URL('../schema/operations/dashboard.graphql', import.meta.url),
  'utf8',
);
const body = JSON.stringify({ query });

const sandbox = await startSandbox();
const config = parseConfig(
  createDemoConfigDocument((kind) => `${sandbox.origin}/${kind}`),
  {
    source: 'bench',
    env: {},
    baseDir: process.cwd(),
  },
);
const runtime = createAppRuntime({ config });
const server = await startBalanceServer({ runtime, server: { ...config.server, port: 0 } });
const url = `${server.origin}/graphql`;

async function once(): Promise<number> {
  const started = performance.now();
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200 || text.includes('"errors"'))
    throw new Error(`bad answer: ${text.slice(0, 200)}`);
  return performance.now() - started;
}

// Warm-up: logins, JIT.
for (let i = 0; i < 50; i += 1) await once();

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
let peakRss = process.memoryUsage().rss;
const rows: Record<string, string | number>[] = [];
for (const concurrency of levels) {
  sandbox.clearCalls();
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        latencies.push(await once());
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const reads = sandbox.calls().filter((call) => !call.path.includes('/auth/')).length;
  rows.push({
    concurrency,
    'requests/s': Math.round(latencies.length / seconds),
    'p50 ms': percentile(latencies, 0.5).toFixed(2),
    'p99 ms': percentile(latencies, 0.99).toFixed(2),
    'balance calls per request per provider': (
      reads /
      latencies.length /
      (config.tenants[0]?.providers.length ?? 1)
    ).toFixed(2),
  });
}
console.log(
  `balance-api bench: dashboard query, sandbox in-process, ${total} requests per level, Node ${process.version}`,
);
console.table(rows);
console.log(
  `peak RSS (server, sandbox and load generator in one process): ${(peakRss / 1024 / 1024).toFixed(0)} MB`,
);
await server.close();
await runtime.close();
await sandbox.close();
