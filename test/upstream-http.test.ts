import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { Agent } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { UpstreamError } from '../src/upstream/errors.js';
import { createUpstreamHttp } from '../src/upstream/http.js';
import {
  errorForStatus,
  MAX_RETRY_AFTER_SECONDS,
  readRetryAfterSeconds,
} from '../src/upstream/http-errors.js';

const dispatcher = new Agent();
const servers: (Server | TcpServer)[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(
    servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
  );
});
afterAll(() => dispatcher.close());

async function listen(server: Server | TcpServer): Promise<string> {
  servers.push(server);
  server.on('connection', (socket: Socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(baseUrl: string, timeoutMs: number, maxResponseBytes?: number) {
  return createUpstreamHttp({
    providerId: 'p1',
    baseUrl,
    dispatcher,
    timeoutMs,
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
}

async function failure(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('the upstream deadline (timeoutMs) covers the whole call', () => {
  it('when the upstream accepts the connection and never answers', async () => {
    const url = await listen(createTcpServer(() => {}));
    const error = await failure(client(url, 200).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error).toMatchObject({ code: 'UPSTREAM_TIMEOUT', providerId: 'p1', retryable: true });
    expect(error.message).toBe('p1: no answer within 200 ms');
  });

  it('when the headers arrive and the body never ends', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"code":200,');
      }),
    );
    const error = await failure(client(url, 200).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
  });

  it('when the body trickles in, each chunk inside any per-chunk timeout but the whole too slow', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200);
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
      }),
    );
    const error = await failure(client(url, 300).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
  });
});

describe("a provider read's own signal", () => {
  it("ends every call of the read when it fires, with no timer of the call's own", async () => {
    const controller = new AbortController();
    const reason = new DOMException('The operation timed out.', 'TimeoutError');
    // The read is given up once its call has reached the upstream, which never answers.
    const url = await listen(createTcpServer(() => controller.abort(reason)));
    const http = client(url, 60_000).within({
      deadlineAt: performance.now() + 60_000,
      signal: controller.signal,
    });
    const error = await failure(http.send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
    // The call and the deadline allowed 60 s: it is the read's signal that ended it.
    expect(error.cause).toBe(reason);
  });

  it('is not used for a sooner deadline it does not fire at', async () => {
    const url = await listen(createTcpServer(() => {}));
    const never = new AbortController().signal;
    const http = client(url, 60_000)
      .within({ deadlineAt: performance.now() + 60_000, signal: never })
      .within({ deadlineAt: performance.now() + 150 });
    const error = await failure(http.send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('retries near the deadline', () => {
  it('a wait for another try that would outlast the deadline ends there: the last answer stands', async () => {
    let received = 0;
    const url = await listen(
      createHttpServer((_req, res) => {
        received += 1;
        res.writeHead(503).end();
      }),
    );
    const http = createUpstreamHttp({
      providerId: 'p1',
      baseUrl: url,
      dispatcher,
      timeoutMs: 60_000,
      // A backoff far longer than the deadline allows.
      retry: { maxRetries: 2, baseDelayMs: 100_000 },
    }).within({ deadlineAt: performance.now() + 500 });
    const response = await http.send({ method: 'GET', path: '/x', route: 'x' });
    expect(response.status).toBe(503);
    expect(received).toBeGreaterThanOrEqual(1);
  });
});

describe('transport failures', () => {
  it('a refused connection is UPSTREAM_UNAVAILABLE', async () => {
    const url = await listen(createTcpServer());
    await new Promise((resolve) => (servers.pop() as TcpServer).close(resolve));
    const error = await failure(client(url, 1000).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(error.message).toBe('p1: the provider could not be reached (ECONNREFUSED)');
  });

  it('a reset connection is UPSTREAM_UNAVAILABLE', async () => {
    const url = await listen(createTcpServer((socket) => socket.resetAndDestroy()));
    const error = await failure(client(url, 1000).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('a body larger than the cap is UPSTREAM_BAD_RESPONSE, and the connection is given up', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200);
        res.end('x'.repeat(64 * 1024));
      }),
    );
    const error = await failure(
      client(url, 1000, 1024).send({ method: 'GET', path: '/x', route: 'x' }),
    );
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
    expect(error.message).toBe('p1: the response body is larger than 1024 bytes');
  });

  it('a declared length over the cap is refused when the headers arrive, before the body', async () => {
    let bodyWritten = false;
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-length': String(64 * 1024) });
        res.write('x'.repeat(16));
        // The rest would follow much later; the client must not wait for it.
        setTimeout(() => {
          bodyWritten = true;
          res.end('x'.repeat(64 * 1024 - 16));
        }, 3000).unref();
      }),
    );
    const error = await failure(
      client(url, 10_000, 1024).send({ method: 'GET', path: '/x', route: 'x' }),
    );
    expect(error.message).toBe('p1: the response body is larger than 1024 bytes');
    expect(bodyWritten).toBe(false);
  });

  it('a request undici refuses to send (a header with a line break) fails once, not retried', async () => {
    let received = 0;
    const url = await listen(
      createHttpServer((_req, res) => {
        received += 1;
        res.end('{}');
      }),
    );
    let built = 0;
    const error = await failure(
      client(url, 1000).send({
        method: 'GET',
        path: '/x',
        headers: () => {
          built += 1;
          return { authorization: 'Bearer a\r\nx-injected: 1' };
        },
        route: 'x',
      }),
    );
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe('p1: the request could not be sent (UND_ERR_INVALID_ARG)');
    expect({ built, received }).toEqual({ built: 1, received: 0 });
  });

  it('an interim 1xx response is not the answer', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        res.end('{"ok":1}');
      }),
    );
    const response = await client(url, 1000).send({ method: 'GET', path: '/x', route: 'x' });
    expect({ status: response.status, text: response.text }).toEqual({
      status: 200,
      text: '{"ok":1}',
    });
    // And a connection lost after one is lost before any answer: unavailable, not cut off.
    const lost = await listen(
      createHttpServer((_req, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        setTimeout(() => res.socket?.destroy(), 10);
      }),
    );
    const error = await failure(client(lost, 1000).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('a body without a length that breaks off is UPSTREAM_BAD_RESPONSE', async () => {
    const url = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"code":200,"data":[');
        setTimeout(() => res.socket?.destroy(), 20);
      }),
    );
    const error = await failure(client(url, 5000).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toMatch(/^p1: the response body was cut off before its end/);
  });

  it('joins the base URL path and the request path, and sends JSON bodies as application/json', async () => {
    let seen: { url?: string; type?: string; body?: string } = {};
    const url = await listen(
      createHttpServer((req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        req.on('end', () => {
          seen = { url: req.url, type: req.headers['content-type'], body };
          res.end('{}');
        });
      }),
    );
    const response = await client(`${url}/pik/`, 1000).send({
      method: 'POST',
      path: '/api/v1/auth/token',
      query: { a: 'b c' },
      json: { appId: 'x' },
      route: 'login',
    });
    expect(response.status).toBe(200);
    expect(seen).toEqual({
      url: '/pik/api/v1/auth/token?a=b+c',
      type: 'application/json',
      body: '{"appId":"x"}',
    });
  });
});

describe('a connection that ends in the middle of the body', () => {
  /** Headers and part of a 100-byte body, then `end` once the client has read them. */
  function partialBody(end: (socket: Socket) => void) {
    return (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      // A reset that arrives while the client has not yet read the bytes before it can look like
      // a clean close; one more turn of the event loop lets the client read them first.
      res.write('{"code":200,"data":[', () =>
        setImmediate(() => setImmediate(() => res.socket && end(res.socket))),
      );
    };
  }

  it('a reset (RST) is UPSTREAM_UNAVAILABLE and tried again, like a reset before the headers', async () => {
    let received = 0;
    const url = await listen(
      createHttpServer((req, res) => {
        received += 1;
        partialBody((socket) => socket.resetAndDestroy())(req, res);
      }),
    );
    const http = createUpstreamHttp({
      providerId: 'p1',
      baseUrl: url,
      dispatcher,
      timeoutMs: 5000,
      retry: { maxRetries: 2, baseDelayMs: 1 },
    });
    const error = await failure(http.send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true, status: 200 });
    expect(error.message).toBe(
      'p1: the connection was reset before the response body ended (ECONNRESET)',
    );
    expect(received).toBe(3);
  });

  it('a clean close (FIN) short of the declared length is a cut-off body: UPSTREAM_BAD_RESPONSE, not tried again', async () => {
    let received = 0;
    const url = await listen(
      createHttpServer((req, res) => {
        received += 1;
        partialBody((socket) => socket.destroy())(req, res);
      }),
    );
    const error = await failure(client(url, 5000).send({ method: 'GET', path: '/x', route: 'x' }));
    expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false });
    expect(error.message).toBe('p1: the response body was cut off before its end (UND_ERR_SOCKET)');
    expect(received).toBe(1);
  });
});

describe('the shared status mapping', () => {
  const answer = (status: number, headers: Record<string, string> = {}) => ({
    status,
    headers,
    text: '',
  });

  it('maps a body code that decides over the HTTP status, named as the kind names it', () => {
    const decided = (code: number) => ({ code, label: `ResponseCode ${code} under HTTP 200` });
    expect(
      errorForStatus('p1', answer(200, { 'retry-after': '7' }), 'the read', decided(429)),
    ).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      status: 200,
      retryAfterSeconds: 7,
      message: 'p1: the read was rate limited (ResponseCode 429 under HTTP 200); retry after 7 s',
    });
    expect(errorForStatus('p1', answer(200), 'the read', decided(503))).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      status: 200,
      message: 'p1: the read failed upstream (ResponseCode 503 under HTTP 200)',
    });
    expect(errorForStatus('p1', answer(200), 'the read', decided(422))).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 200,
      message:
        "p1: the read answered ResponseCode 422 under HTTP 200, which the provider's contract does not define",
    });
    // A body code need not be an HTTP status: past 599 it is no server error.
    expect(errorForStatus('p1', answer(200), 'the read', decided(1000))).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
    });
  });

  it('maps the HTTP status itself when no body code decides', () => {
    expect(errorForStatus('p1', answer(503), 'the read')).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      status: 503,
      message: 'p1: the read failed upstream (HTTP 503)',
    });
    expect(errorForStatus('p1', answer(418), 'the read')).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      status: 418,
      message: "p1: the read answered HTTP 418, which the provider's contract does not define",
    });
  });
});

describe('Retry-After', () => {
  const rateLimited = (retryAfter: string) =>
    errorForStatus(
      'p1',
      { status: 429, headers: { 'retry-after': retryAfter }, text: '' },
      'the read',
    );

  it('too large to represent is reported as the bound, a whole number of seconds', () => {
    for (const huge of ['99999999999999999999999', '9'.repeat(400), '86401']) {
      expect(readRetryAfterSeconds({ 'retry-after': huge })).toBe(MAX_RETRY_AFTER_SECONDS);
      const error = rateLimited(huge);
      expect(error.retryAfterSeconds).toBe(86_400);
      expect(error.message).toBe('p1: the read was rate limited (HTTP 429); retry after 86400 s');
    }
    expect(readRetryAfterSeconds({ 'retry-after': '86400' })).toBe(86_400);
    expect(readRetryAfterSeconds({ 'retry-after': '30' })).toBe(30);
  });

  it('as an HTTP date is read against the clock, and bounded the same way', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(readRetryAfterSeconds({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }, now)).toBe(30);
    expect(readRetryAfterSeconds({ 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' }, now)).toBe(0);
    expect(readRetryAfterSeconds({ 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }, now)).toBe(
      86_400,
    );
  });

  it('that is neither form is not read at all', () => {
    for (const unreadable of ['1e400', '-5', 'soon', '']) {
      expect(readRetryAfterSeconds({ 'retry-after': unreadable })).toBeUndefined();
    }
    expect(rateLimited('1e400')).toMatchObject({
      message: 'p1: the read was rate limited (HTTP 429)',
      retryAfterSeconds: undefined,
    });
  });

  it('over a socket: a 429 far beyond the cap is answered at once, with the bound', async () => {
    let received = 0;
    const url = await listen(
      createHttpServer((_req, res) => {
        received += 1;
        res.writeHead(429, { 'retry-after': '99999999999999999999999' }).end('{}');
      }),
    );
    const response = await client(url, 5000).send({ method: 'GET', path: '/x', route: 'x' });
    expect(received).toBe(1);
    expect(errorForStatus('p1', response, 'the read')).toMatchObject({
      code: 'UPSTREAM_RATE_LIMITED',
      retryAfterSeconds: 86_400,
    });
  });
});
