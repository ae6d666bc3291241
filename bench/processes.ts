/**
 * What the bench's modes share to run balance-api, the sandbox and the baseline as processes of
 * their own: the launcher line's Node flags, and a start that waits for the line saying where the
 * process listens.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
