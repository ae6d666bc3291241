import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallerAuthenticator, createCallerAuthenticator } from '../src/caller-auth.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import { startTestApp, type TestApp } from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';
import { startCommand } from './helpers/process.js';
import { bodyOf, connectRaw, headerOf, statusOf } from './helpers/raw-http.js';

const API_KEY = 'connections-key-5b1e';
const DIGEST = createHash('sha256').update(API_KEY).digest('hex');
const QUERY = JSON.stringify({ query: '{ providers { id } }' });

/** A request line and headers, without the blank line that ends them unless `end` says so. */
function head(lines: string[], end = true): string {
  return `${lines.join('\r\n')}\r\n${end ? '\r\n' : ''}`;
}

const CHUNKED_POST = head([
  'POST /graphql HTTP/1.1',
  'Host: 127.0.0.1',
  'Content-Type: application/json',
  'Transfer-Encoding: chunked',
]);

function chunk(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`;
}

describe('caller authentication before the body is read', () => {
  let app: TestApp;
  let server: BalanceServer;
  let authentications = 0;

  beforeAll(async () => {
    app = await startTestApp({
      configDocument: (baseUrl) => ({
        auth: { apiKeys: [{ tenant: 'default', sha256: DIGEST }] },
        providers: createDemoConfigDocument(baseUrl).providers,
      }),
    });
    const real = createCallerAuthenticator(app.config.auth, new Set(['default']));
    // The real authenticator, counted, to show each request is authenticated once.
    const counted: CallerAuthenticator = {
      required: real.required,
      authenticate: (authorization) => {
        authentications += 1;
        return real.authenticate(authorization);
      },
    };
    server = await startBalanceServer({
      runtime: app.runtime,
      authenticator: counted,
      server: { ...app.config.server, port: 0 },
    });
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  it('answers 401 to a chunked request without credentials at once, without reading its body', async () => {
    app.sandbox.clearCalls();
    const connection = await connectRaw(server.origin);
    // Headers only: the body never comes, and the answer must not wait for it.
    connection.socket.write(CHUNKED_POST);
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(401);
    expect(headerOf(raw, 'www-authenticate')).toBe('Bearer realm="balance-api"');
    expect(headerOf(raw, 'connection')).toBe('close');
    expect(JSON.parse(bodyOf(raw))).toEqual({
      errors: [
        {
          message:
            'Unauthenticated: authentication is required: send "Authorization: Bearer <API key or JWT>"',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  }, 5000);

  it('answers 401 to a request with a declared length and a wrong key, without its body', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        'Authorization: Bearer not-the-key',
        'Content-Length: 100000',
      ]),
    );
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(401);
    expect(headerOf(raw, 'www-authenticate')).toBe(
      'Bearer realm="balance-api", error="invalid_token", error_description="the API key is not valid"',
    );
    expect(headerOf(raw, 'connection')).toBe('close');
    expect(JSON.parse(bodyOf(raw))).toEqual({
      errors: [
        {
          message: 'Unauthenticated: the API key is not valid',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
  }, 5000);

  it('answers 401 to a request that expects 100-continue without inviting its body', async () => {
    app.sandbox.clearCalls();
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        'Authorization: Bearer not-the-key',
        'Content-Length: 100000',
        'Expect: 100-continue',
      ]),
    );
    // The client waits for 100 Continue before it sends a byte of the body; it never gets one.
    const raw = await connection.closed;
    expect(raw).toMatch(/^HTTP\/1\.1 401 /);
    expect(raw).not.toContain('100 Continue');
    expect(headerOf(raw, 'www-authenticate')).toBe(
      'Bearer realm="balance-api", error="invalid_token", error_description="the API key is not valid"',
    );
    expect(headerOf(raw, 'connection')).toBe('close');
    expect(JSON.parse(bodyOf(raw))).toEqual({
      errors: [
        {
          message: 'Unauthenticated: the API key is not valid',
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  }, 5000);

  it('says 100 Continue to an authenticated request that expects it, then serves it', async () => {
    authentications = 0;
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Authorization: Bearer ${API_KEY}`,
        `Content-Length: ${Buffer.byteLength(QUERY)}`,
        'Expect: 100-continue',
        'Connection: close',
      ]),
    );
    await connection.receive(/^HTTP\/1\.1 100 Continue\r\n\r\n/);
    connection.socket.write(QUERY);
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(200);
    const { data } = JSON.parse(bodyOf(raw)) as { data: { providers: { id: string }[] } };
    expect(data.providers.map((provider) => provider.id)).toContain('pik-main');
    expect(authentications).toBe(1);
  }, 5000);

  it('serves an authenticated chunked request, authenticating its caller once', async () => {
    authentications = 0;
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Authorization: Bearer ${API_KEY}`,
        'Transfer-Encoding: chunked',
        'Connection: close',
      ]),
    );
    connection.socket.write(chunk(QUERY.slice(0, 10)));
    connection.socket.write(chunk(QUERY.slice(10)));
    connection.socket.write('0\r\n\r\n');
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(200);
    const { data } = JSON.parse(bodyOf(raw)) as { data: { providers: { id: string }[] } };
    expect(data.providers.map((provider) => provider.id)).toContain('pik-main');
    expect(authentications).toBe(1);
  });

  it('authenticates a request with a declared length once', async () => {
    authentications = 0;
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: QUERY,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(authentications).toBe(1);
  });

  it('asks no credentials for /healthz, /readyz, a CORS preflight or the GraphiQL page', async () => {
    authentications = 0;
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.origin}/readyz`)).status).toBe(200);
    const preflight = await fetch(`${server.origin}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).not.toBe(401);
    const page = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<title>balance-api</title>');
    // GraphiQL opens a shared link (a query in the address) as its page too.
    const link = await fetch(`${server.origin}/graphql?query=%7Bproviders%7Bid%7D%7D`, {
      headers: { accept: 'text/html' },
    });
    expect(link.status).toBe(200);
    expect(await link.text()).toContain('<title>balance-api</title>');
    expect(authentications).toBe(0);
    // A GET asking for JSON is a GraphQL request: it needs credentials.
    const get = await fetch(`${server.origin}/graphql?query=%7Bproviders%7Bid%7D%7D`, {
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    });
    expect(get.status).toBe(401);
    expect(get.headers.get('www-authenticate')).toBe('Bearer realm="balance-api"');
  });
});

describe('connection bounds', () => {
  let app: TestApp;
  let server: BalanceServer;

  beforeAll(async () => {
    app = await startTestApp();
    server = await startBalanceServer({
      runtime: app.runtime,
      server: {
        ...app.config.server,
        port: 0,
        headersTimeoutMs: 200,
        receiveTimeoutMs: 300,
        keepAliveTimeoutMs: 1000,
      },
    });
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  it('answers 408 and closes the connection when a body with a declared length comes too slowly', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        'Content-Length: 100',
      ]),
    );
    connection.socket.write('{"query"');
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(408);
  }, 5000);

  it('answers 408 and closes the connection when a chunked body never ends', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(CHUNKED_POST);
    connection.socket.write(chunk('{"query"'));
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(408);
  }, 5000);

  it('answers 413 to a request that expects 100-continue with a declared length over the limit, without inviting its body', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(
      head([
        'POST /graphql HTTP/1.1',
        'Host: 127.0.0.1',
        'Content-Type: application/json',
        `Content-Length: ${app.config.server.maxRequestBytes + 1}`,
        'Expect: 100-continue',
      ]),
    );
    const raw = await connection.closed;
    expect(raw).toMatch(/^HTTP\/1\.1 413 /);
    expect(raw).not.toContain('100 Continue');
  }, 5000);

  it('closes a connection whose headers never end', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(head(['GET /healthz HTTP/1.1', 'Host: 127.0.0.1'], false));
    const raw = await connection.closed;
    expect(statusOf(raw)).toBe(408);
  }, 5000);

  it('closes an idle keep-alive connection after keepAliveTimeoutMs, and says so', async () => {
    const connection = await connectRaw(server.origin);
    connection.socket.write(head(['GET /healthz HTTP/1.1', 'Host: 127.0.0.1']));
    const raw = await connection.receive(/\{"status":"ok"\}/);
    expect(headerOf(raw, 'keep-alive')).toBe('timeout=1');
    await connection.closed;
  }, 5000);
});

describe('the connection cap', () => {
  it('closes a connection over maxConnections at once, and serves the others', async () => {
    const app = await startTestApp();
    const server = await startBalanceServer({
      runtime: app.runtime,
      server: { ...app.config.server, port: 0, maxConnections: 2 },
    });
    try {
      const ask = head(['GET /healthz HTTP/1.1', 'Host: 127.0.0.1']);
      const first = await connectRaw(server.origin);
      const second = await connectRaw(server.origin);
      // Both are surely counted once each has been answered.
      first.socket.write(ask);
      second.socket.write(ask);
      await first.receive(/\{"status":"ok"\}/);
      await second.receive(/\{"status":"ok"\}/);
      const third = await connectRaw(server.origin);
      third.socket.write(ask);
      expect(await third.closed).toBe('');
      first.socket.write(ask);
      const again = await first.receive(/\{"status":"ok"\}[\s\S]*\{"status":"ok"\}/);
      expect(again.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
      first.socket.destroy();
      second.socket.destroy();
    } finally {
      await server.close();
      await app.close();
    }
  }, 5000);
});

describe('the refused-connection warning', () => {
  /** Timers that fire only when the test moves their clock. */
  function manualTimers() {
    const pending = new Map<number, { at: number; callback: () => void }>();
    let now = 0;
    let next = 1;
    return {
      setTimeout(callback: () => void, ms: number) {
        pending.set(next, { at: now + ms, callback });
        return next++;
      },
      clearTimeout(handle: unknown) {
        pending.delete(handle as number);
      },
      advance(ms: number) {
        now += ms;
        for (const [id, timer] of [...pending].filter(([, timer]) => timer.at <= now)) {
          pending.delete(id);
          timer.callback();
        }
      },
    };
  }

  it('logs the first refusal at once, and the count of the others a minute later', async () => {
    const app = await startTestApp();
    const { log, lines } = captureLogs();
    const timers = manualTimers();
    const server = await startBalanceServer({
      runtime: app.runtime,
      log,
      server: { ...app.config.server, port: 0, maxConnections: 1 },
      timers,
    });
    const refusals = () =>
      lines
        .map((line) => JSON.parse(line) as { msg: string; refused?: number; level: number })
        .filter((line) => line.msg.includes('refused'));
    /** Opens a connection over the cap and waits until the server has closed it. */
    const refused = async () => {
      const connection = await connectRaw(server.origin);
      expect(await connection.closed).toBe('');
    };
    try {
      const kept = await connectRaw(server.origin);
      kept.socket.write(head(['GET /healthz HTTP/1.1', 'Host: 127.0.0.1']));
      await kept.receive(/\{"status":"ok"\}/);
      await refused();
      expect(refusals()).toEqual([
        expect.objectContaining({
          level: 40,
          msg: 'connections refused: server.maxConnections reached',
          refused: 1,
        }),
      ]);
      await refused();
      await refused();
      // Counted, not logged, until the minute is over.
      expect(refusals()).toHaveLength(1);
      timers.advance(60_000);
      expect(refusals()).toEqual([
        expect.objectContaining({ refused: 1 }),
        expect.objectContaining({
          level: 40,
          msg: '2 connections refused in the last minute: server.maxConnections reached',
          refused: 2,
        }),
      ]);
      // A quiet minute logs nothing; the next refusal is logged at once again.
      timers.advance(60_000);
      expect(refusals()).toHaveLength(2);
      await refused();
      expect(refusals()).toHaveLength(3);
      expect(refusals()[2]).toMatchObject({
        msg: 'connections refused: server.maxConnections reached',
        refused: 1,
      });
      kept.socket.destroy();
    } finally {
      await server.close();
      await app.close();
    }
  }, 5000);
});

describe('the real command under a chunked-body attack', () => {
  it('keeps its peak memory within 50 MB of idle while 300 strangers each send a chunked megabyte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-attack-'));
    const configPath = join(dir, 'auth.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        auth: { apiKeys: [{ tenant: 'default', sha256: DIGEST }] },
        providers: [],
      }),
    );
    const command = startCommand(['serve', '--config', configPath, '--port', '0']);
    try {
      const [, origin] = await command.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
      const url = origin as string;
      // Warm up the paths the attack takes, so that their first-use cost is part of idle.
      for (const authorization of [`Bearer ${API_KEY}`, undefined]) {
        await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(authorization === undefined ? {} : { authorization }),
          },
          body: QUERY,
        });
      }
      const idle = command.memory();

      // Each connection: the headers, one chunk of just under 1 MiB (the body limit), never the end.
      const piece = Buffer.alloc(64 * 1024, 0x61);
      const size = 1024 * 1024 - 1024;
      const attack = Array.from({ length: 300 }, async () => {
        const connection = await connectRaw(url);
        const { socket } = connection;
        let flushed: Promise<unknown> = Promise.resolve();
        socket.write(`${CHUNKED_POST}${size.toString(16)}\r\n`);
        for (let sent = 0; sent < size && !socket.destroyed; sent += piece.length) {
          const bytes = Math.min(piece.length, size - sent);
          flushed = new Promise((resolve) =>
            socket.write(bytes === piece.length ? piece : piece.subarray(0, bytes), resolve),
          );
        }
        // Sent in full, or refused and closed by the server part way.
        await Promise.race([flushed, connection.closed]);
        return connection;
      });
      const connections = await Promise.all(attack);
      // One more round trip, so the server has handled what reached it.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const peak = command.memory();
      for (const connection of connections) connection.socket.destroy();
      expect(
        connections.filter((connection) => /^HTTP\/1\.1 2/.test(connection.received())),
      ).toHaveLength(0);
      expect((peak.peakKb - idle.residentKb) / 1024).toBeLessThan(50);
    } finally {
      await command.stop();
    }
  }, 60_000);
});
