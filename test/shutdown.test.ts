import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { startBalanceServer } from '../src/server.js';
import type { DrainTimers } from '../src/shutdown.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { startCommand } from './helpers/process.js';
import {
  bodyOf,
  connectRaw,
  type HeldUpstream,
  headerOf,
  startHeldUpstream,
  statusOf,
} from './helpers/raw-http.js';

const QUERY = '{ totals { currencies { currency total } } }';

/** Timers that fire only when the test moves their clock. */
function manualTimers(): DrainTimers & { advance(ms: number): void } {
  const pending = new Map<number, { at: number; callback: () => void }>();
  let now = 0;
  let next = 1;
  return {
    setTimeout(callback, ms) {
      pending.set(next, { at: now + ms, callback });
      return next++;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      const due = [...pending].filter(([, timer]) => timer.at <= now);
      due.sort(([, a], [, b]) => a.at - b.at);
      for (const [id, timer] of due) {
        pending.delete(id);
        timer.callback();
      }
    },
  };
}

/** GET /readyz over a raw connection, which the server closes after the answer while draining. */
async function readyz(origin: string) {
  const connection = await connectRaw(origin);
  connection.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  const raw = await connection.receive(/\{"status":"\w+"\}/);
  return {
    status: statusOf(raw),
    connection: headerOf(raw, 'connection'),
    body: JSON.parse(bodyOf(raw)) as unknown,
    closed: connection.closed,
  };
}

function postQuery(origin: string) {
  return fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: QUERY }),
  });
}

/** The demo tenant with one provider, prepaid "sms", reached through `held`. */
function smsThrough(held: HeldUpstream) {
  return (baseUrl: (kind: string) => string) => ({
    providers: createDemoConfigDocument(baseUrl)
      .providers.filter((provider) => provider.id === 'sms')
      .map((provider) => ({ ...provider, baseUrl: `${held.origin}/prepaid` })),
  });
}

const HALF_SENT_HEAD =
  'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n';

describe('the shutdown sequence, in process', () => {
  let app: TestApp;
  let held: HeldUpstream;

  beforeAll(async () => {
    app = await startTestApp();
    held = await startHeldUpstream(app.sandbox.origin);
  });

  afterAll(async () => {
    await held?.close();
    await app?.close();
  });

  async function start(settings: { shutdownDelayMs: number; drainTimeoutMs: number }) {
    const timers = manualTimers();
    const server = await startBalanceServer({
      runtime: app.runtime,
      server: { ...app.config.server, port: 0, ...settings },
      timers,
    });
    return { server, timers };
  }

  it('answers /readyz 503 at once, and keeps serving with Connection: close until shutdownDelayMs', async () => {
    const { server, timers } = await start({ shutdownDelayMs: 1000, drainTimeoutMs: 5000 });
    expect((await readyz(server.origin)).status).toBe(200);
    // A keep-alive connection opened before the signal, idle when it comes.
    const kept = await connectRaw(server.origin);
    kept.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await kept.receive(/\{"status":"ok"\}/);
    const answered = kept.received().length;
    const done = server.shutdown();
    const draining = await readyz(server.origin);
    expect(draining.status).toBe(503);
    expect(draining.body).toEqual({ status: 'draining' });
    expect(draining.connection).toBe('close');
    await draining.closed;
    // The kept connection's next request is answered too, and its answer closes it.
    kept.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const keptRaw = (await kept.closed).slice(answered);
    expect(statusOf(keptRaw)).toBe(503);
    expect(headerOf(keptRaw, 'connection')).toBe('close');
    expect(JSON.parse(bodyOf(keptRaw))).toEqual({ status: 'draining' });
    // New connections are still served, GraphQL included, until the delay has passed.
    const answer = await postQuery(server.origin);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    timers.advance(1000);
    expect(await done).toEqual({ destroyed: 0 });
    await expect(connectRaw(server.origin)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('closes the listener after shutdownDelayMs although a GraphQL request is in flight, and lets that request finish with 200', async () => {
    const tenant = await startTestApp({ sandbox: app.sandbox, configDocument: smsThrough(held) });
    const timers = manualTimers();
    const server = await startBalanceServer({
      runtime: tenant.runtime,
      server: { ...tenant.config.server, port: 0, shutdownDelayMs: 1000, drainTimeoutMs: 5000 },
      timers,
    });
    try {
      const arrived = held.arrival();
      const answer = postQuery(server.origin);
      await arrived;
      const done = server.shutdown();
      // During the delay new connections are still accepted, and told the server is draining.
      const draining = await readyz(server.origin);
      expect(draining.status).toBe(503);
      timers.advance(1000);
      // Steady traffic keeps a request in flight: the listener closes after the delay regardless.
      await expect(connectRaw(server.origin)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      held.release();
      const response = await answer;
      expect(response.status).toBe(200);
      expect(response.headers.get('connection')).toBe('close');
      expect(await response.json()).toEqual({
        data: { totals: { currencies: [{ currency: 'CNY', total: '14.3456' }] } },
      });
      // Closed by itself, the deadline's timer never having fired.
      expect(await done).toEqual({ destroyed: 0 });
    } finally {
      held.release();
      await tenant.close();
    }
  });

  it('closes idle keep-alive connections, and connections that sent nothing, at once', async () => {
    const { server } = await start({ shutdownDelayMs: 0, drainTimeoutMs: 5000 });
    const idle = await connectRaw(server.origin);
    idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await idle.receive(/\{"status":"ok"\}/);
    const silent = await connectRaw(server.origin);
    expect(await server.shutdown()).toEqual({ destroyed: 0 });
    await idle.closed;
    await silent.closed;
  });

  it('counts a request that expected 100-continue as in flight: it finishes, and closes its connection', async () => {
    const { server } = await start({ shutdownDelayMs: 0, drainTimeoutMs: 5000 });
    const connection = await connectRaw(server.origin);
    connection.socket.write(`${HALF_SENT_HEAD}Expect: 100-continue\r\n\r\n`);
    await connection.receive(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    const done = server.shutdown();
    // The declared 100 bytes: a query, padded with the spaces JSON allows.
    connection.socket.write(JSON.stringify({ query: '{ __typename }' }).padEnd(100, ' '));
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(200);
    expect(headerOf(raw, 'connection')).toBe('close');
    expect(JSON.parse(bodyOf(raw))).toEqual({ data: { __typename: 'Query' } });
    // Closed by itself, the deadline's timer never having fired.
    expect(await done).toEqual({ destroyed: 0 });
  });

  it('destroys a half-sent request at drainTimeoutMs', async () => {
    const { server, timers } = await start({ shutdownDelayMs: 1000, drainTimeoutMs: 5000 });
    const connection = await connectRaw(server.origin);
    const arrived = once(server.server, 'request');
    connection.socket.write(`${HALF_SENT_HEAD}\r\n{"query"`);
    await arrived;
    const done = server.shutdown();
    expect((await readyz(server.origin)).status).toBe(503);
    // The listener closes after the delay; the half-sent request is left until the deadline.
    timers.advance(1000);
    await expect(connectRaw(server.origin)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    timers.advance(4000);
    expect(await connection.closed).toBe('');
    expect(await done).toEqual({ destroyed: 1 });
  });
});

describe('the shutdown sequence of the real command', () => {
  let sandbox: Sandbox;
  let dir: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    dir = mkdtempSync(join(tmpdir(), 'balance-shutdown-'));
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  function configFile(name: string, document: unknown): string {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(document));
    return path;
  }

  async function serve(configPath: string) {
    const command = startCommand(['serve', '--config', configPath, '--port', '0']);
    const [, origin] = await command.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
    return { command, origin: origin as string };
  }

  /** A request whose headers the server has read (it said 100 Continue) and whose body stops. */
  async function halfSentRequest(origin: string) {
    const connection = await connectRaw(origin);
    connection.socket.write(`${HALF_SENT_HEAD}Expect: 100-continue\r\n\r\n`);
    await connection.receive(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    connection.socket.write('{"query"');
    return connection;
  }

  it('exits 0 at drainTimeoutMs although a client holds a half-sent request', async () => {
    const configPath = configFile('half-sent.json', {
      server: { drainTimeoutMs: 300 },
      providers: [],
    });
    const { command, origin } = await serve(configPath);
    try {
      const connection = await halfSentRequest(origin);
      command.child.kill('SIGTERM');
      expect(await command.exited).toBe(0);
      expect(await connection.closed).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      expect(command.stdout()).toContain('"msg":"drain deadline passed: connections closed"');
    } finally {
      await command.stop();
    }
  });

  it('under steady traffic answers /readyz 503 for shutdownDelayMs, then closes the listener while a GraphQL request in flight finishes with 200, and exits 0 before the deadline', async () => {
    const held = await startHeldUpstream(sandbox.origin);
    const document = smsThrough(held)((kind) => `${sandbox.origin}/${kind}`);
    // Nothing but the drain ends the held read: no request or upstream timeout comes first.
    const configPath = configFile('in-flight.json', {
      server: { shutdownDelayMs: 1000, drainTimeoutMs: 8000, requestTimeoutMs: 60_000 },
      providers: document.providers.map((provider) => ({ ...provider, timeoutMs: 60_000 })),
    });
    const { command, origin } = await serve(configPath);
    try {
      const arrived = held.arrival();
      const answer = postQuery(origin);
      await arrived;
      command.child.kill('SIGTERM');
      await command.waitForOutput(/"msg":"draining"/);
      // A load balancer's probes and requests keep coming, each on a new connection, until the
      // listener is closed; the request in flight is still held then.
      const answers: unknown[] = [];
      for (;;) {
        const connection = await connectRaw(origin).catch((error: unknown) => error);
        if (!('socket' in (connection as object))) {
          expect(connection).toMatchObject({ code: 'ECONNREFUSED' });
          break;
        }
        const { socket, closed } = connection as Awaited<ReturnType<typeof connectRaw>>;
        socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
        const raw = await closed;
        // Accepted just as the listener closed, a connection is closed unanswered.
        if (raw !== '') answers.push({ status: statusOf(raw), body: JSON.parse(bodyOf(raw)) });
      }
      expect(answers.length).toBeGreaterThan(0);
      for (const answered of answers) {
        expect(answered).toEqual({ status: 503, body: { status: 'draining' } });
      }
      held.release();
      const response = await answer;
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        data: { totals: { currencies: [{ currency: 'CNY', total: '14.3456' }] } },
      });
      expect(await command.exited).toBe(0);
      expect(command.stdout()).toContain('"msg":"drained: every connection closed"');
      expect(command.stdout()).not.toContain('drain deadline passed');
      expect(command.stdout()).toContain('"msg":"stopped"');
    } finally {
      held.release();
      await command.stop();
      await held.close();
    }
  }, 15_000);

  it('exits at drainTimeoutMs although an upstream read it started is still waiting', async () => {
    const held = await startHeldUpstream(sandbox.origin);
    const document = smsThrough(held)((kind) => `${sandbox.origin}/${kind}`);
    const configPath = configFile('held-upstream.json', {
      server: { drainTimeoutMs: 300, requestTimeoutMs: 600_000 },
      providers: document.providers.map((provider) => ({ ...provider, timeoutMs: 120_000 })),
    });
    const { command, origin } = await serve(configPath);
    try {
      const arrived = held.arrival();
      const answer = postQuery(origin).catch((error: unknown) => error);
      await arrived;
      command.child.kill('SIGTERM');
      // The upstream never answers: nobody waits for that read once the drain is over.
      expect(await command.exited).toBe(0);
      expect(await answer).toBeInstanceOf(Error);
      expect(command.stdout()).toContain('"msg":"stopped"');
    } finally {
      held.release();
      await command.stop();
      await held.close();
    }
  });

  it('exits at once on a second SIGTERM', async () => {
    const configPath = configFile('second-signal.json', {
      server: { drainTimeoutMs: 600_000 },
      providers: [],
    });
    const { command, origin } = await serve(configPath);
    try {
      const connection = await halfSentRequest(origin);
      command.child.kill('SIGTERM');
      await command.waitForOutput(/"msg":"draining"/);
      command.child.kill('SIGTERM');
      expect(await command.exited).toBe(143);
      await connection.closed;
    } finally {
      await command.stop();
    }
  });
});
