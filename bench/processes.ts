/**
 * What the bench's modes share to run balance-api, the sandbox and the baseline as processes of
 * their own: the launcher line's Node flags, and a start that waits for the line saying where the
 * process listens.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export const ROOT = new URL('..', import.meta.url).pathname;

/** The flags `balance-api` starts Node with: its launcher line, `#!/usr/bin/env -S node ...`. */
export const LAUNCHER_FLAGS = (
  readFileSync(new URL('../bin/balance-api.js', import.meta.url), 'utf8')
    .split('\n')[0]
    ?.match(/^#!\/usr\/bin\/env -S node(.*)$/)?.[1] ?? ''
)
  .split(' ')
  .filter((flag) => flag !== '');

export interface Running {
  child: ChildProcess;
  url: string;
  /** SIGTERM, and the process's exit. */
  stop(): Promise<void>;
}

/**
 * Starts `node [flags] args...` and waits for `pattern` (its first group: the URL) in what it
 * prints; rejects with everything it printed if it exits first.
 */
export function startProcess(
  args: string[],
  pattern: RegExp,
  options: { flags?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<Running> {
  const child = spawn(process.execPath, [...(options.flags ?? []), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = output.match(pattern);
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        // Keep draining, so a chatty child never blocks on a full pipe.
        child.stdout?.resume();
        resolve({
          child,
          url: match[1],
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) =>
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}

/** Builds dist/ (what `balance-api` runs) from the working tree. */
export function buildDist(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

/** The sandbox in a process of its own, answering after `latencyMs`, keeping no calls. */
export function startSandboxProcess(latencyMs: number): Promise<Running> {
  return startProcess(
    [
      'bin/balance-api.js',
      'sandbox',
      '--port',
      '0',
      '--latency-ms',
      String(latencyMs),
      '--no-record',
    ],
    /listening on (http:\/\/\S+)/,
  );
}

/** Reads (and logins) per kind the sandbox counted; `reset` also starts the count again. */
export type SandboxStats = Record<string, { reads: number; logins: number }>;

export async function sandboxStats(sandboxUrl: string, reset = false): Promise<SandboxStats> {
  const response = await fetch(`${sandboxUrl}/_sandbox/stats`, {
    method: reset ? 'DELETE' : 'GET',
  });
  return ((await response.json()) as { stats: SandboxStats }).stats;
}

/** The dashboard operation of schema/operations/ as a GraphQL POST body. */
export const DASHBOARD_BODY = JSON.stringify({
  query: readFileSync(new URL('../schema/operations/dashboard.graphql', import.meta.url), 'utf8'),
});

/** `balance-api serve` on a configuration file, on a free port, and the line saying where. */
export const serveArgs = (config: string): string[] => [
  'bin/balance-api.js',
  'serve',
  '--config',
  config,
  '--port',
  '0',
];
export const SERVING = /GraphiQL at (http:\/\/\S+\/graphql)/;

/** autocannon POSTing `body` (default the dashboard) to `url` for `duration` seconds. */
export function load(url: string, connections: number, duration: number, body = DASHBOARD_BODY) {
  return autocannon({
    url,
    connections,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** A provider of the demo configuration, as createDemoConfigDocument gives it. */
export type DemoProvider = Record<string, unknown> & {
  id: string;
  kind: string;
  baseUrl: string;
  credentials: Record<string, string>;
};

/**
 * The dashboard's providers: the demo tenant's providers of the five built-in kinds, on the
 * sandbox at `sandboxUrl`, without its second prepaid (voice). Read from dist/ (built first).
 * These are the kinds the hand-written baseline reads: a kind added later neither breaks the
 * baseline nor changes the workload the figures compare.
 */
export function dashboardProviders(sandboxUrl: string): DemoProvider[] {
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
  ) as { providers: DemoProvider[] };
  return demo.providers.filter((provider) => provider.id !== 'voice');
}
