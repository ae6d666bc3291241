import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's package installs it here (`.ci/run` installs it when missing). */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** A real `redis-server` of a test's own, on a loopback port, with nothing written to disk. */
export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The server's process id while it runs. */
  pid(): number | undefined;
  /** Stops it (SIGTERM to its pid) and waits for the exit; the port stays this server's. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after `stop`), empty, and waits until it answers PING. */
  restart(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing, as a hung Redis would. */
  pause(): void;
  /** SIGCONT: it answers again, the commands sent meanwhile first. */
  resume(): void;
  /** Stops it and removes its working folder. */
  close(): Promise<void>;
}

/**
 * Starts `redis-server` on a free loopback port with no persistence (`--save ''`, `--appendonly
 * no`, a temporary working folder) and resolves once it answers PING.
 */
export async function startTestRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'balance-api-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;
  // Another process may take the free port before Redis binds it: try a few ports.
  for (let attempt = 0; ; attempt += 1) {
    try {
      child = await launch(port, dir);
      break;
    } catch (error) {
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }
  let running: ChildProcess | undefined = child;

  async function stop(): Promise<void> {
    const current = running;
    running = undefined;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    // A paused server does not act on SIGTERM until it runs again.
    process.kill(current.pid as number, 'SIGCONT');
    process.kill(current.pid as number, 'SIGTERM');
    await exited;
  }

  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => running?.pid,
    stop,
    async restart() {
      await stop();
      running = await launch(port, dir);
    },
    pause() {
      if (running?.pid !== undefined) process.kill(running.pid, 'SIGSTOP');
    },
    resume() {
      if (running?.pid !== undefined) process.kill(running.pid, 'SIGCONT');
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one redis-server and resolves when it answers PING; rejects if it exits first. */
async function launch(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server exited (${code ?? signal}) before answering:\n${output}`)),
    );
    child.once('error', reject);
  });
  exited.catch(() => {});
  await Promise.race([answersPing(port), exited]);
  return child;
}

/**
 * Resolves once a PING on `port` gets +PONG. Until the server listens, a connection is refused
 * at once; the next attempt follows on the next turn of the event loop (a few ms), never a
 * sleep of its own.
 */
async function answersPing(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (await pingOnce(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer.startsWith('+PONG')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
