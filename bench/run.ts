/**
 * `npm run bench`: balance-api against the simplest alternative, side by side, in one run.
 *
 * - The sandbox simulators run in their own process, answering every call after a fixed latency.
 * - balance-api runs in its own process (`balance-api serve`), as a user runs it, with the Node
 *   flags of the command's launcher line (bin/balance-api.js), once with cross-request coalescing
 *   off and once with it on.
 * - The baseline gets the same Node flags, so that only the code differs.
 * - The baseline (bench/baseline-server.mjs) runs in its own process: plain node:http + undici,
 *   the same five upstream calls per request, the same JSON, no GraphQL.
 * - autocannon drives the dashboard query of schema/operations/ at each concurrency, after a
 *   warm-up, for a bounded time. Upstream calls are counted by the sandbox.
 *
 * Prints, per latency and concurrency: requests/s, p50/p99 latency, balance calls per request per
 * provider, the server's peak RSS, and the ratio to the baseline; writes bench/results/latest.json
 * and the table in BENCHMARKS.md. A benchmark, not a test: nothing here asserts a time.
 *
 * Each figure is the median of --rounds rounds (times --restarts, each starting the servers
 * afresh: a server process keeps its own speed, a few percent either way, for its life); a round measures the baseline and both
 * balance-api servers one after the other, so a machine that speeds up or slows down during the
 * run moves them together, and the ratio is taken within each round.
 *
 * Options: --latency 5,20  --concurrency 1,10,50  --seconds 5  --rounds 3  --soak (2 minutes at 50, RSS over
 * time)  --node-flags=--max-semi-space-size=64 (added for balance-api and the baseline alike)
 * --plain-node (without the launcher's flags)  --no-metrics (balance-api with metrics off)
 *
 * `--compare rest|metrics|tracing|ref:<git ref>`: two balance-api servers instead of the baseline
 * set, the second against the first (ratios of throughput and of server CPU per request): the
 * dashboard's providers on their built-in kinds against the same providers configured as `rest`;
 * metrics off against on; tracing off against every span exported over OTLP (http/protobuf) to a
 * sink; the code of an earlier commit (built in a git worktree of its own) against this tree, both
 * with metrics off when that commit has none, to tell a regression from noise.
 *
 * The servers of a round run one after the other, in the opposite order each round, so that
 * neither always follows the other's load.
 *
 * `--subscribers N`: the live-balances mode instead (bench/subscribers.ts): N SSE subscribers of
 * one provider; options --poll-ms 1000 --changes 20 --soak-seconds 60 --latency 5.
 *
 * `--cluster N`: the cluster mode instead (bench/cluster.ts): N instances on one Redis, the
 * dashboard at the last --concurrency (50) spread over them, cacheTtlMs 1000.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { merchantAsRest, pikAsRest, prepaidAsRest, walletAsRest } from '../test/rest-examples.js';
import { runCluster } from './cluster.js';
import {
  buildDist,
  DASHBOARD_BODY,
  type DemoProvider,
  dashboardProviders,
  LAUNCHER_FLAGS,
  load,
  median,
  ROOT,
  type Running,
  SERVING,
  sandboxStats,
  serveArgs,
  startProcess,
  startSandboxProcess,
} from './processes.js';
import { runSubscribers } from './subscribers.js';

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '5,20' },
    concurrency: { type: 'string', default: '1,10,50' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    /** Start the servers afresh this many times, each for --rounds rounds (default once). */
    restarts: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '2' },
    soak: { type: 'boolean', default: false },
    'soak-seconds': { type: 'string', default: '120' },
    /** Node flags for balance-api and the baseline alike (`--node-flags=...`); default none. */
    'node-flags': { type: 'string', default: '' },
    /** Leave out the launcher line's flags: Node's defaults, for comparison. */
    'plain-node': { type: 'boolean', default: false },
    /** balance-api with `server.metrics.enabled: false`, as before metrics existed. */
    'no-metrics': { type: 'boolean', default: false },
    /** The live-balances mode: this many SSE subscribers of one provider. */
    subscribers: { type: 'string' },
    /** The cluster mode (bench/cluster.ts): this many instances sharing one Redis. */
    cluster: { type: 'string' },
    /**
     * Two balance-api servers side by side instead of the baseline set (coalescing off in both):
     * `rest` (the providers the rest kind can express, configured as rest, against their
     * built-in kinds), `metrics` (metrics on against off), `tracing` (every span exported over
     * OTLP to a sink, against tracing off).
     */
    compare: { type: 'string' },
    'poll-ms': { type: 'string', default: '1000' },
    changes: { type: 'string', default: '20' },
  },
});
const latencies = values.latency.split(',').map(Number);
const launcherFlags = LAUNCHER_FLAGS;
const nodeFlags = [
  ...(values['plain-node'] ? [] : launcherFlags),
  ...values['node-flags'].split(' ').filter((flag) => flag !== ''),
];
const concurrencies = values.concurrency.split(',').map(Number);
const seconds = Number(values.seconds);
const rounds = Math.max(1, Number(values.rounds));
const restarts = Math.max(1, Number(values.restarts));
const warmupSeconds = Number(values.warmup);
/** Starts a process and waits for the line that says where it listens. */
function start(args: string[], pattern: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const flags = args[0] === 'bin/balance-api.js' && args[1] === 'sandbox' ? [] : nodeFlags;
  return startProcess(args, pattern, { flags, env });
}

/** Samples a process's resident memory until stopped; returns the peak in MB. */
function watchRss(pid: number): { stop(): number; samples: number[] } {
  const samples: number[] = [];
  const read = () => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      samples.push(kb / 1024);
    } catch {
      // The process is gone.
    }
  };
  read();
  const timer = setInterval(read, 100);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      read();
      return Math.max(...samples);
    },
  };
}

/** A process's CPU time so far in ms, from /proc (clock ticks of 10 ms, as on Linux here). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

interface Row {
  latencyMs: number;
  concurrency: number;
  server: string;
  requestsPerSecond: number;
  /** autocannon's mean latency, to a hundredth of a ms (its percentiles are whole ms). */
  meanMs: number;
  /** The server process's CPU time (user + system, all threads) per request answered. */
  cpuMsPerRequest: number;
  /** Set on the rows of the report: each round's req/s, and each round's ratio to the baseline. */
  roundsRequestsPerSecond?: number[];
  ratios?: number[];
  /** Set on the rows of the report: each round's CPU per request over the first server's. */
  cpuRatios?: number[];
  /** The row the others' ratios are taken against (the baseline, or the first compared server). */
  reference?: boolean;
  p50Ms: number;
  p99Ms: number;
  callsPerRequestPerProvider: number;
  peakRssMb: number;
  errors: number;
  non2xx: number;
}

async function measure(
  name: string,
  serverUrl: string,
  pid: number,
  sandboxUrl: string,
  latencyMs: number,
  concurrency: number,
  providers: number,
  warm: boolean,
): Promise<Row> {
  if (warm) await load(serverUrl, concurrency, warmupSeconds, DASHBOARD_BODY);
  await sandboxStats(sandboxUrl, true);
  const rss = watchRss(pid);
  const cpuBefore = cpuMsOf(pid);
  const result = await load(serverUrl, concurrency, seconds, DASHBOARD_BODY);
  const cpuMs = cpuMsOf(pid) - cpuBefore;
  const peakRssMb = rss.stop();
  const stats = await sandboxStats(sandboxUrl);
  const reads = Object.values(stats).reduce((total, kind) => total + kind.reads, 0);
  const requests = result.requests.total;
  return {
    latencyMs,
    concurrency,
    server: name,
    requestsPerSecond: Math.round((requests / result.duration) * 10) / 10,
    meanMs: Math.round(result.latency.average * 100) / 100,
    cpuMsPerRequest: Math.round((cpuMs / Math.max(1, result.requests.total)) * 1000) / 1000,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    // Requests sent, not only answered: reads of those still in flight at the end count too.
    callsPerRequestPerProvider:
      Math.round((reads / Math.max(1, result.requests.sent) / providers) * 1000) / 1000,
    peakRssMb: Math.round(peakRssMb),
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/**
 * One row of the report from a server's rounds: the round of median throughput (its latencies
 * and call counts), the highest peak RSS of any round, and the ratio to the baseline taken
 * within each round.
 */
function summarize(serverRounds: Row[], baselineRounds: Row[]): Row {
  const byThroughput = [...serverRounds].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const middle = byThroughput[Math.floor((byThroughput.length - 1) / 2)] as Row;
  const ratios = serverRounds.map(
    (row, round) =>
      Math.round((row.requestsPerSecond / (baselineRounds[round]?.requestsPerSecond ?? 1)) * 100) /
      100,
  );
  const cpuRatios = serverRounds.map(
    (row, round) =>
      Math.round((row.cpuMsPerRequest / (baselineRounds[round]?.cpuMsPerRequest ?? 1)) * 100) / 100,
  );
  return {
    ...middle,
    cpuRatios,
    requestsPerSecond:
      Math.round(median(serverRounds.map((row) => row.requestsPerSecond)) * 10) / 10,
    peakRssMb: Math.max(...serverRounds.map((row) => row.peakRssMb)),
    errors: serverRounds.reduce((total, row) => total + row.errors, 0),
    non2xx: serverRounds.reduce((total, row) => total + row.non2xx, 0),
    roundsRequestsPerSecond: serverRounds.map((row) => row.requestsPerSecond),
    ratios,
  };
}

/** The dashboard's providers as the rest kind expresses them (test/rest-examples.ts). */
const AS_REST: Record<string, (provider: DemoProvider) => Record<string, unknown>> = {
  pik: (p) =>
    pikAsRest(p.baseUrl, { id: p.id, ...(p.credentials as { appId: string; appSecret: string }) }),
  merchant: (p) =>
    merchantAsRest(p.baseUrl, {
      id: p.id,
      ...(p.credentials as { clientId: string; clientSecret: string }),
    }),
  wallet: (p) =>
    walletAsRest(p.baseUrl, {
      id: p.id,
      walletId: p.walletId as string,
      ...(p.credentials as { apiKey: string }),
    }),
  prepaid: (p) =>
    prepaidAsRest(p.baseUrl, {
      id: p.id,
      currency: p.currency as string,
      ...(p.credentials as { devKey: string; devSecret: string }),
    }),
};

interface ConfigVariant {
  coalesce: boolean;
  /** Providers the rest kind can express are configured as rest providers. */
  rest?: boolean;
  /** `server.metrics.enabled`; default left to the server (on). */
  metrics?: boolean;
}

/** The bench configuration: one provider of each kind, on the sandbox, with the demo accounts. */
function writeConfig(sandboxUrl: string, variant: ConfigVariant): string {
  const providers = dashboardProviders(sandboxUrl).map((provider) => {
    const asRest = variant.rest === true ? AS_REST[provider.kind] : undefined;
    // The demo's name, so that only the kind differs in the answer.
    const configured =
      asRest === undefined ? provider : { ...asRest(provider), name: provider.name };
    return {
      ...configured,
      coalesceReads: variant.coalesce,
    };
  });
  const dir = mkdtempSync(join(tmpdir(), 'balance-bench-'));
  const path = join(dir, 'config.json');
  const server = {
    logLevel: 'warn',
    ...(variant.metrics === undefined ? {} : { metrics: { enabled: variant.metrics } }),
  };
  writeFileSync(path, JSON.stringify({ server, providers }));
  return path;
}

/** The baseline must answer what balance-api answers, or the comparison means nothing. */
async function checkSameAnswer(balanceUrl: string, baselineUrl: string): Promise<void> {
  const ask = async (url: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: DASHBOARD_BODY,
    });
    // A provider's kind is the one field a rest provider answers differently from its built-in
    // kind (REST); every other field must be the same.
    return (await response.text())
      .replace(/"fetchedAt":"[^"]+"/g, '"fetchedAt":"-"')
      .replace(/"kind":"(PIK|MERCHANT|WALLET|PREPAID|REST)"/g, '"kind":"-"');
  };
  const [ours, theirs] = await Promise.all([ask(balanceUrl), ask(baselineUrl)]);
  if (ours !== theirs) {
    let at = 0;
    while (ours[at] === theirs[at]) at += 1;
    const from = Math.max(0, at - 200);
    throw new Error(
      `the servers answer differently from character ${at}:\n${ours.slice(from, at + 200)}\n${theirs.slice(from, at + 200)}`,
    );
  }
}

async function main(): Promise<void> {
  buildDist();
  const rows: Row[] = [];
  const soak: { seconds: number; rssMb: number }[] = [];
  for (const latencyMs of values.soak ? [5] : latencies) {
    const sandbox = await startSandboxProcess(latencyMs);
    const metrics = values['no-metrics'] ? { metrics: false } : {};
    const plainConfig = writeConfig(sandbox.url, { coalesce: false, ...metrics });
    const coalesceConfig = writeConfig(sandbox.url, { coalesce: true, ...metrics });
    const providers = 5;
    const servers: Server[] =
      values.compare === undefined
        ? [
            {
              name: 'baseline',
              args: ['bench/baseline-server.mjs', plainConfig],
              pattern: /listening on (http:\/\/\S+)/,
            },
            { name: 'balance-api', args: serveArgs(plainConfig), pattern: SERVING },
            { name: 'balance-api+coalescing', args: serveArgs(coalesceConfig), pattern: SERVING },
          ]
        : await comparedServers(values.compare, sandbox.url);
    if (values.soak) {
      const server = await start(servers[1]?.args ?? [], SERVING);
      const pid = server.child.pid as number;
      const started = performance.now();
      const rss = watchRss(pid);
      const total = Number(values['soak-seconds']);
      const sampler = setInterval(() => {
        soak.push({
          seconds: Math.round((performance.now() - started) / 1000),
          rssMb: Math.round(rss.samples.at(-1) ?? 0),
        });
      }, 5000);
      const result = await load(server.url, 50, total, DASHBOARD_BODY);
      clearInterval(sampler);
      rss.stop();
      console.log(
        `soak: ${result.requests.total} requests in ${total} s, ${result.errors} errors, ${result.non2xx} non-2xx`,
      );
      await server.stop();
    } else {
      for (const concurrency of concurrencies) {
        const measured: Row[][] = servers.map(() => []);
        // A server process keeps its own speed for its life (its JIT's choices, its heap's
        // layout), a few percent either way: each restart starts every server afresh.
        for (let restart = 0; restart < restarts; restart += 1) {
          const running: Running[] = [];
          for (const server of servers)
            running.push(await start(server.args, server.pattern, server.env));
          await checkSameAnswer(running[1]?.url as string, running[0]?.url as string);
          for (let round = 0; round < rounds; round += 1) {
            const order = [...servers.entries()];
            if (round % 2 === 1) order.reverse();
            for (const [index, server] of order) {
              const target = running[index] as Running;
              const row = await measure(
                server.name,
                target.url,
                target.child.pid as number,
                sandbox.url,
                latencyMs,
                concurrency,
                providers,
                round === 0,
              );
              measured[index]?.push(row);
              console.log(JSON.stringify({ restart, round, ...row }));
            }
          }
          for (const server of running) await server.stop();
        }
        const baselineRounds = measured[0] ?? [];
        for (const [index, serverRounds] of measured.entries()) {
          rows.push({ ...summarize(serverRounds, baselineRounds), reference: index === 0 });
        }
      }
    }
    await sandbox.stop();
    for (const server of servers) await server.cleanup?.();
  }
  report(rows, soak);
}

interface Server {
  name: string;
  args: string[];
  pattern: RegExp;
  env?: NodeJS.ProcessEnv;
  cleanup?: () => Promise<void>;
}

/** The two servers of `--compare`: the reference first (the ratios' 1), then the variant. */
async function comparedServers(compare: string, sandboxUrl: string): Promise<Server[]> {
  const plain = writeConfig(sandboxUrl, { coalesce: false });
  switch (compare) {
    case 'rest':
      return [
        { name: 'built-in kinds', args: serveArgs(plain), pattern: SERVING },
        {
          name: 'as rest',
          args: serveArgs(writeConfig(sandboxUrl, { coalesce: false, rest: true })),
          pattern: SERVING,
        },
      ];
    case 'metrics':
      return [
        {
          name: 'metrics off',
          args: serveArgs(writeConfig(sandboxUrl, { coalesce: false, metrics: false })),
          pattern: SERVING,
        },
        {
          name: 'metrics on',
          args: serveArgs(writeConfig(sandboxUrl, { coalesce: false, metrics: true })),
          pattern: SERVING,
        },
      ];
    case 'tracing': {
      const sink = await start(['bench/otlp-sink.mjs'], /listening on (http:\/\/\S+)/);
      return [
        { name: 'tracing off', args: serveArgs(plain), pattern: SERVING },
        {
          name: 'tracing on (every span exported)',
          args: serveArgs(plain),
          pattern: SERVING,
          env: {
            OTEL_TRACES_EXPORTER: 'otlp',
            OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
            OTEL_TRACES_SAMPLER: 'always_on',
            OTEL_SERVICE_NAME: 'balance-api-bench',
          },
          cleanup: () => sink.stop(),
        },
      ];
    }
    default: {
      const ref = compare.match(/^ref:(.+)$/)?.[1];
      if (ref === undefined)
        throw new Error(`--compare ${compare}: expected rest, metrics, tracing or ref:<git ref>`);
      const earlier = buildAt(ref);
      // The earlier code may not know server.metrics; when it has no metrics, this tree runs
      // without them too, so that the two do the same work.
      const metrics = existsSync(join(earlier.root, 'src/metrics')) ? {} : { metrics: false };
      return [
        {
          name: ref,
          args: [
            join(earlier.root, 'bin/balance-api.js'),
            ...serveArgs(writeConfig(sandboxUrl, { coalesce: false })).slice(1),
          ],
          pattern: SERVING,
          cleanup: async () => earlier.remove(),
        },
        {
          name: 'this tree',
          args: serveArgs(writeConfig(sandboxUrl, { coalesce: false, ...metrics })),
          pattern: SERVING,
        },
      ];
    }
  }
}

/**
 * The code at `ref`, checked out in a git worktree of its own (sharing this tree's node_modules)
 * and built; `remove` deletes the worktree.
 */
function buildAt(ref: string): { root: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'balance-bench-ref-'));
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, stdio: 'pipe' });
  git('worktree', 'add', '--force', '--detach', root, ref);
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  return { root, remove: () => git('worktree', 'remove', '--force', root) };
}

function report(rows: Row[], soak: { seconds: number; rssMb: number }[]): void {
  const flags = nodeFlags.length === 0 ? 'no Node flags' : `Node flags ${nodeFlags.join(' ')}`;
  const metricsNote = values['no-metrics'] ? ', balance-api with metrics off' : '';
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ${flags}${metricsNote}`;
  /** The median of the rounds' ratios, and their range when they differ. */
  const ratioOf = (row: Row, which: 'ratios' | 'cpuRatios' = 'ratios') => {
    const ratios = row[which] ?? [];
    const low = Math.min(...ratios);
    const high = Math.max(...ratios);
    const middle = Math.round(median(ratios) * 100) / 100;
    return low === high ? `${middle}` : `${middle} (${low}–${high})`;
  };
  const reference = values.compare === undefined ? 'baseline' : 'the first server';
  const lines = [
    `| latency | concurrency | server | req/s (median) | mean ms | p50 ms | p99 ms | balance calls / request / provider | server CPU ms / request | peak RSS MB | × ${reference} (median, range) |${values.compare === undefined ? '' : ' CPU / request × the first server |'}`,
    `|---|---|---|---|---|---|---|---|---|---|---|${values.compare === undefined ? '' : '---|'}`,
    ...rows.map((row) => {
      const first = row.reference === true;
      const cells = [
        `${row.latencyMs} ms`,
        row.concurrency,
        row.server,
        row.requestsPerSecond,
        row.meanMs,
        row.p50Ms,
        row.p99Ms,
        row.callsPerRequestPerProvider,
        row.cpuMsPerRequest,
        row.peakRssMb,
        first ? '1' : ratioOf(row),
        ...(values.compare === undefined ? [] : [first ? '1' : ratioOf(row, 'cpuRatios')]),
      ];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  const soakLines =
    soak.length === 0
      ? []
      : [
          '| seconds | RSS MB |',
          '|---|---|',
          ...soak.map((sample) => `| ${sample.seconds} | ${sample.rssMb} |`),
        ];
  console.log(`\nbalance-api bench on ${machine}\n`);
  if (lines.length > 2) console.log(lines.join('\n'));
  if (soakLines.length > 0) console.log(soakLines.join('\n'));
  const results = { date: new Date().toISOString(), machine, seconds, rounds, rows, soak };
  const name = values.soak
    ? 'soak'
    : values.compare === undefined
      ? 'latest'
      : `compare-${values.compare.replace(/:.*$/, '')}`;
  const file = new URL(`results/${name}.json`, import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  const markdownPath = new URL('../BENCHMARKS.md', import.meta.url);
  let markdown = readFileSync(markdownPath, 'utf8');
  const section = values.soak
    ? 'soak'
    : values.compare === undefined
      ? 'table'
      : `compare-${values.compare.replace(/:.*$/, '')}`;
  const begin = `<!-- bench:${section}:begin -->`;
  const end = `<!-- bench:${section}:end -->`;
  const body = `${begin}\nMeasured ${results.date.slice(0, 10)} on ${machine}, ${values.soak ? `${values['soak-seconds']} s at concurrency 50, 5 ms latency` : `the median of ${rounds * restarts} interleaved rounds of ${seconds} s per row${restarts > 1 ? ` (${restarts} server starts of ${rounds} rounds)` : ''}, after a ${warmupSeconds} s warm-up${restarts > 1 ? ' per start' : ''}`}.\n\n${(values.soak ? soakLines : lines).join('\n')}\n${end}`;
  markdown = markdown.includes(begin)
    ? markdown.replace(new RegExp(`${begin}[\\s\\S]*?${end}`), body)
    : `${markdown.trimEnd()}\n\n${body}\n`;
  writeFileSync(markdownPath, markdown);
}

if (values.cluster !== undefined) {
  await runCluster({
    instances: Number(values.cluster),
    seconds,
    rounds,
    warmupSeconds,
    latencyMs: Number(values.latency.split(',')[0]),
    concurrency: concurrencies.at(-1) ?? 50,
    cacheTtlMs: 1000,
  });
} else if (values.subscribers === undefined) {
  await main();
} else {
  await runSubscribers({
    subscribers: Number(values.subscribers),
    pollMs: Number(values['poll-ms']),
    changes: Number(values.changes),
    soakSeconds: values['soak-seconds'] === '120' ? 60 : Number(values['soak-seconds']),
    latencyMs: Number(values.latency.split(',')[0]),
  });
}
