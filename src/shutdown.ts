import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { constants } from 'node:os';
import type { Timers } from './timers.js';

/**
 * Runs `close` once on SIGINT or SIGTERM, then exits 0 (1 if it failed). A second signal while it
 * runs exits at once, with 128 + the signal's number, as a shell reports a process it killed.
 */
export function onShutdown(close: (signal: NodeJS.Signals) => Promise<void>): void {
  let closing = false;
  const stop = (signal: NodeJS.Signals) => {
    if (closing) {
      process.exit(128 + (constants.signals[signal] ?? 0));
    }
    closing = true;
    close(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** The timers a drain uses; tests pass timers they fire by hand. */
export type DrainTimers = Timers;

const REAL_TIMERS: DrainTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface HttpDrainOptions {
  /**
   * After the drain starts, keep accepting new connections this long (ms), /readyz answering 503,
   * so that a load balancer sees it and stops sending before the port closes. Default: none (0).
   */
  shutdownDelayMs: number;
  /** After the drain starts, destroy whatever connection is left after this long (ms). */
  drainTimeoutMs: number;
  /** Default: the real setTimeout and clearTimeout. */
  timers?: DrainTimers | undefined;
}

/** What a finished drain did. */
export interface DrainOutcome {
  /**
   * Connections still open at the deadline, destroyed then (a half-sent request, a slow reply);
   * 0 when every connection closed by itself before it.
   */
  destroyed: number;
}

export interface HttpDrain {
  /** True from the start of the drain: readiness is off and every response closes its connection. */
  readonly draining: boolean;
  /** Starts the drain (once; later calls get the same promise); resolves when all is closed. */
  drain(): Promise<DrainOutcome>;
}

/**
 * The shutdown sequence of an HTTP server. From `drain()`: every response closes its connection;
 * the listener keeps accepting until `shutdownDelayMs` has passed (so requests a load balancer
 * sends before it notices are answered), then it and the idle connections are closed whatever is
 * still in flight: requests under way finish on their own connections, but traffic that keeps
 * coming cannot hold the port open. At `drainTimeoutMs` whatever connection is left is destroyed.
 */
export function createHttpDrain(server: Server, options: HttpDrainOptions): HttpDrain {
  const timers = options.timers ?? REAL_TIMERS;
  const sockets = new Set<Socket>();
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let closing = false;
  let outcome: Promise<DrainOutcome> | undefined;
  let destroyed = 0;

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Before the server's own handler, so that a response it writes at once is marked too.
  const track = (_req: IncomingMessage, res: ServerResponse) => {
    if (draining) res.setHeader('connection', 'close');
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // A reply whose headers went out before the drain may have left its connection open, idle.
      if (closing) closeIdle();
    });
  };
  server.prependListener('request', track);
  // A request that expects 100-continue comes as 'checkContinue' where the server handles that
  // event itself (create the drain after its handlers); otherwise Node answers 100 and emits
  // 'request'.
  if (server.listenerCount('checkContinue') > 0) server.prependListener('checkContinue', track);

  /** Keep-alive connections between requests, and connections that have sent nothing yet. */
  function closeIdle(): void {
    server.closeIdleConnections();
    for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy();
  }

  let closed: () => void = () => {};
  function closeListener(): void {
    if (closing) return;
    closing = true;
    server.close(() => closed());
    closeIdle();
  }

  return {
    get draining() {
      return draining;
    },
    drain() {
      if (outcome !== undefined) return outcome;
      draining = true;
      // Responses under way close their connections too, unless their headers are already out.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      outcome = new Promise<DrainOutcome>((resolve) => {
        const delay =
          options.shutdownDelayMs > 0
            ? timers.setTimeout(closeListener, options.shutdownDelayMs)
            : undefined;
        const deadline = timers.setTimeout(() => {
          closeListener();
          for (const socket of sockets) {
            destroyed += 1;
            socket.destroy();
          }
        }, options.drainTimeoutMs);
        closed = () => {
          if (delay !== undefined) timers.clearTimeout(delay);
          timers.clearTimeout(deadline);
          resolve({ destroyed });
        };
        if (delay === undefined) closeListener();
      });
      return outcome;
    },
  };
}
