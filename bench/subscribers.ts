/**
 * `npm run bench -- --subscribers 5000`: many SSE subscribers of one provider on one instance.
 *
 * - The sandbox runs in this process (so the bench can change a demo balance between polls);
 *   balance-api runs in its own process (`balance-api serve`), polling one PIK provider every
 *   `--poll-ms` (default 1000).
 * - N clients, each on its own raw socket, subscribe to `balanceEvents(currencies: ["USD"])` over
 *   SSE and count the events they read.
 * - Then, for `--changes` intervals (default 20), the USD balance changes before every poll.
 *
 * Prints and writes to bench/results/subscribers.json: upstream reads per interval (target 1),
 * the time from the sandbox answering the read that sees a change to each subscriber reading its
 * event (p50, p99 and the last subscriber, per change, then the median over changes; target p99
 * under 250 ms), the RSS of balance-api per subscriber (target under 20 KB: as read, and after a
 * full garbage collection at both readings, asked of the server through its loopback inspector;
 * the JS heap per subscriber too), and its RSS over a
 * soak of `--soak-seconds` (default 60) of changes, to show no growth. A benchmark: nothing is
 * asserted. BENCHMARKS.md is not written: its table is the README's to update.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { buildDist, LAUNCHER_FLAGS, ROOT } from './processes.js';

export interface SubscribersOptions {
  subscribers: number;
  pollMs: number;
  changes: number;
  soakSeconds: number;
  latencyMs: number;
}

interface Client {
  socket: Socket;
  events: number;
  /** When each event was read (performance.now()), by its number. */
  readAt: number[];
}

function rssKbOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
  } catch {
    return Number.NaN;
  }
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

const round = (value: number, places = 1) => Math.round(value * 10 ** places) / 10 ** places;

async function waitFor(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Started {
  child: ChildProcess;
  url: string;
  /** The server's inspector, to ask it for a full garbage collection before measuring memory. */
  inspector: string;
}

/**
 * balance-api with its inspector on a loopback port: the bench only uses it to run a full garbage
 * collection before each memory reading, so that garbage not yet collected (and how big the young
 * generation happens to have grown) does not count as the subscribers' memory.
 */
function startServer(configPath: string): Promise<Started> {
  const child = spawn(
    process.execPath,
    [
      ...LAUNCHER_FLAGS,
      '--inspect=127.0.0.1:0',
      'bin/balance-api.js',
      'serve',
      '--config',
      configPath,
      '--port',
      '0',
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const check = () => {
      const url = output.match(/GraphiQL at (http:\/\/\S+\/graphql)/)?.[1];
      const inspector = output.match(/Debugger listening on (ws:\/\/\S+)/)?.[1];
      if (url !== undefined && inspector !== undefined) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve({ child, url, inspector });
      }
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      check();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      check();
    });
    child.once('exit', (code) => reject(new Error(`balance-api exited with ${code}:\n${output}`)));
  });
}

/** A full garbage collection in the server (twice: the second frees what the first's finalizers let go), then its memory. */
async function collectGarbage(inspector: string): Promise<{ heapUsedKb: number }> {
  const socket = new WebSocket(inspector);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  let id = 0;
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      id += 1;
      const mine = id;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(data.toString()) as {
          id?: number;
          result?: Record<string, unknown>;
        };
        if (message.id === mine) {
          socket.off('message', onMessage);
          resolve(message.result ?? {});
        }
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ id: mine, method, params }));
    });
  await call('HeapProfiler.collectGarbage');
  await call('HeapProfiler.collectGarbage');
  const usage = (await call('Runtime.evaluate', {
    expression: 'process.memoryUsage().heapUsed',
    returnByValue: true,
  })) as { result?: { value?: number } };
  socket.close();
  return { heapUsedKb: Math.round((usage.result?.value ?? Number.NaN) / 1024) };
}

/** One SSE subscriber on a raw socket: counts `event: next` blocks as they arrive. */
function subscribe(url: URL, body: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const client: Client = { socket, events: 0, readAt: [] };
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      let at = text.indexOf('event: next');
      while (at >= 0) {
        client.events += 1;
        client.readAt.push(performance.now());
        text = text.slice(at + 11);
        at = text.indexOf('event: next');
      }
      // Keep only a tail that could hold the start of a marker cut in two.
      if (text.length > 64) text = text.slice(-16);
    });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        `POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\naccept: text/event-stream\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      resolve(client);
    });
  });
}

export async function runSubscribers(options: SubscribersOptions): Promise<void> {
  buildDist();
  const { startSandbox } = (await import(
    new URL('../dist/sandbox/index.js', import.meta.url).href
  )) as typeof import('../src/sandbox/index.js');
  const { createDemoSandboxData, createDemoConfigDocument } = (await import(
    new URL('../dist/sandbox/demo.js', import.meta.url).href
  )) as typeof import('../src/sandbox/demo.js');
  const data = createDemoSandboxData();
  const sandbox = await startSandbox({
    data,
    latencyMs: options.latencyMs,
    recordCalls: false,
  });
  // When the sandbox finished answering each PIK balance read: the read that sees a change.
  const answeredAt: number[] = [];
  sandbox.server.prependListener('request', (req, res) => {
    if (req.url?.startsWith('/pik/api/v1/balance') === true) {
      res.once('finish', () => answeredAt.push(performance.now()));
    }
  });
  const providers = createDemoConfigDocument(
    (kind) => `${sandbox.origin}/${kind}`,
    ['pik'],
  ).providers.map((provider) => ({ ...provider, pollIntervalMs: options.pollMs }));
  const dir = mkdtempSync(join(tmpdir(), 'balance-bench-subscribers-'));
  const configPath = join(dir, 'config.json');
  const n = options.subscribers;
  writeFileSync(
    configPath,
    JSON.stringify({
      server: {
        logLevel: 'warn',
        maxConnections: n + 100,
        subscriptions: { maxPerCaller: n + 100 },
      },
      providers,
    }),
  );
  const server = await startServer(configPath);
  const pid = server.child.pid as number;
  const url = new URL(server.url);
  const body = JSON.stringify({
    query:
      'subscription { balanceEvents(currencies: ["USD"]) { kind accountId currency balance { total available } previous { total } at } }',
  });
  const reads = () => sandbox.stats().pik?.reads ?? 0;

  // Idle RSS: the process after start and one query, before any subscriber.
  await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ providers { id } }' }),
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleKb = rssKbOf(pid);
  const idleHeap = await collectGarbage(server.inspector);
  const idleAfterGcKb = rssKbOf(pid);

  const clients: Client[] = [];
  for (let start = 0; start < n; start += 500) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(500, n - start) }, () => subscribe(url, body)),
    );
    clients.push(...batch);
  }
  await waitFor(() => clients.every((client) => client.events >= 1), 'every SNAPSHOT');
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const subscribedKb = rssKbOf(pid);
  const subscribedHeap = await collectGarbage(server.inspector);
  const subscribedAfterGcKb = rssKbOf(pid);

  const usd = data.pik.customers[0]?.records.find((record) => record.currencyCode === 'USD');
  if (usd === undefined) throw new Error('the demo data has no PIK USD balance');
  const latencies: { p50: number; p99: number; last: number }[] = [];
  const readsBefore = reads();
  const soakRss: { seconds: number; rssMb: number }[] = [];
  const soakStarted = performance.now();
  let change = 0;
  const runChange = async () => {
    change += 1;
    usd.balance = `${1500 + change}.25`;
    const expected = change + 1;
    const answeredBefore = answeredAt.length;
    await waitFor(
      () => answeredAt.length > answeredBefore,
      `the poll after change ${change}`,
      options.pollMs * 3,
    );
    const answered = answeredAt[answeredAt.length - 1] as number;
    await waitFor(
      () => clients.every((client) => client.events >= expected),
      `change ${change} at every subscriber`,
    );
    const delays = clients.map((client) => (client.readAt[expected - 1] as number) - answered);
    for (const client of clients) client.readAt.length = 0;
    for (const client of clients) client.readAt.length = expected;
    return {
      p50: percentile(delays, 0.5),
      p99: percentile(delays, 0.99),
      last: Math.max(...delays),
    };
  };
  const intervalsStarted = performance.now();
  for (let index = 0; index < options.changes; index += 1) latencies.push(await runChange());
  const elapsedIntervals = (performance.now() - intervalsStarted) / options.pollMs;
  const readsPerInterval = (reads() - readsBefore) / Math.max(1, Math.round(elapsedIntervals));

  while (performance.now() - soakStarted < options.soakSeconds * 1000) {
    await runChange();
    soakRss.push({
      seconds: Math.round((performance.now() - soakStarted) / 1000),
      rssMb: round(rssKbOf(pid) / 1024),
    });
  }

  for (const client of clients) client.socket.destroy();
  server.child.kill('SIGTERM');
  await new Promise((resolve) => server.child.once('exit', resolve));
  await sandbox.close();

  const median = (values: number[]) => percentile(values, 0.5);
  const results = {
    date: new Date().toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, Node flags ${LAUNCHER_FLAGS.join(' ')}`,
    subscribers: n,
    pollIntervalMs: options.pollMs,
    upstreamLatencyMs: options.latencyMs,
    upstreamReadsPerInterval: round(readsPerInterval, 2),
    eventDelayMs: {
      p50: round(median(latencies.map((entry) => entry.p50))),
      p99: round(median(latencies.map((entry) => entry.p99))),
      lastSubscriber: round(median(latencies.map((entry) => entry.last))),
      worstP99: round(Math.max(...latencies.map((entry) => entry.p99))),
    },
    rssKb: {
      idle: idleKb,
      subscribed: subscribedKb,
      idleAfterGc: idleAfterGcKb,
      subscribedAfterGc: subscribedAfterGcKb,
    },
    /** RSS as read, garbage not yet collected included. */
    rssKbPerSubscriber: round((subscribedKb - idleKb) / n, 2),
    /** RSS after a full garbage collection at both readings: what the subscribers hold. */
    rssKbPerSubscriberAfterGc: round((subscribedAfterGcKb - idleAfterGcKb) / n, 2),
    heapKbPerSubscriberAfterGc: round((subscribedHeap.heapUsedKb - idleHeap.heapUsedKb) / n, 2),
    soak: soakRss,
  };
  console.log(JSON.stringify(results, null, 2));
  writeFileSync(
    new URL('results/subscribers.json', import.meta.url),
    `${JSON.stringify(results, null, 2)}\n`,
  );
}
