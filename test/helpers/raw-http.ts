import { createServer, request as httpRequest, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

/** A raw TCP client of an HTTP server: it sends exactly the bytes a test writes, when it writes them. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with what was received once it matches `pattern`; rejects if the socket closes first. */
  receive(pattern: RegExp): Promise<string>;
  /** Resolves with everything received once the connection is closed (by either side). */
  closed: Promise<string>;
}

/** Opens a TCP connection to `origin` (`http://host:port`) and resolves once it is connected. */
export function connectRaw(origin: string): Promise<RawConnection> {
  const { hostname, port } = new URL(origin);
  const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
  let data = '';
  const waiters = new Set<() => void>();
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    data += chunk;
    for (const waiter of waiters) waiter();
  });
  // A reset is a close as far as these tests are concerned; what was received says the rest.
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  const connection: RawConnection = {
    socket,
    received: () => data,
    closed,
    receive: (pattern) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(data)) return false;
          waiters.delete(check);
          resolve(data);
          return true;
        };
        if (check()) return;
        waiters.add(check);
        void closed.then(() => {
          if (!check())
            reject(new Error(`connection closed before ${pattern}; received:\n${data}`));
        });
      }),
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(connection));
    socket.once('error', reject);
  });
}

/** The status code of the first response in raw HTTP text, or undefined if there is none. */
export function statusOf(raw: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''));
  return match ? Number(match[1]) : undefined;
}

/** A header's value in the first response of raw HTTP text (lower-cased name). */
export function headerOf(raw: string, name: string): string | undefined {
  const head = raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '').split('\r\n\r\n')[0] ?? '';
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}

/** The body of the first response in raw HTTP text, de-chunked when it was sent chunked. */
export function bodyOf(raw: string): string {
  const text = raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '');
  const start = text.indexOf('\r\n\r\n') + 4;
  const length = headerOf(raw, 'content-length');
  if (length !== undefined) return text.slice(start, start + Number(length));
  if (headerOf(raw, 'transfer-encoding') !== 'chunked') return text.slice(start);
  let body = '';
  let at = start;
  for (;;) {
    const end = text.indexOf('\r\n', at);
    const size = Number.parseInt(text.slice(at, end), 16);
    if (!(size > 0)) return body;
    body += text.slice(end + 2, end + 2 + size);
    at = end + 2 + size + 2;
  }
}

/**
 * An upstream in front of another (the sandbox) that holds every request until the test releases
 * it, so a GraphQL request can be caught in flight without a sleep or a fault.
 */
export interface HeldUpstream {
  origin: string;
  /** Resolves when the next request has arrived and is being held. */
  arrival(): Promise<void>;
  /** Forwards every held request, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

export async function startHeldUpstream(target: string): Promise<HeldUpstream> {
  let released = false;
  const held: (() => void)[] = [];
  const arrivals: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    const forward = () => {
      const upstream = httpRequest(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    for (const arrived of arrivals.splice(0)) arrived();
    if (released) forward();
    else held.push(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    arrival: () => new Promise((resolve) => arrivals.push(resolve)),
    release() {
      released = true;
      for (const forward of held.splice(0)) forward();
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
