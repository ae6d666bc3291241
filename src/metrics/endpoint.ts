import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeUnexpectedError, type Logger } from '../logger.js';
import type { BalanceMetrics } from './registry.js';

/**
 * GET /metrics: the Prometheus text of one app. Never behind caller authentication (scrapers do
 * not send it); who may scrape is the caller's to decide (loopback only on the main port unless
 * `server.metrics.allowRemote`; anyone who reaches a metrics port of its own).
 */

const TEXT = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' };

/** The metrics, to a GET or HEAD. */
export function answerMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: BalanceMetrics,
  log?: Logger,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...TEXT, allow: 'GET, HEAD' });
    res.end('expected GET /metrics\n');
    return;
  }
  metrics.render().then(
    (text) => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
    (error: unknown) => {
      log?.error(describeUnexpectedError(error), 'metrics could not be collected');
      res.writeHead(500, TEXT);
      res.end('the metrics could not be collected\n');
    },
  );
}

/** 403 to a client that is not on this machine, saying which setting would let it in. */
export function refuseRemoteScrape(res: ServerResponse): void {
  res.writeHead(403, TEXT);
  res.end(
    '/metrics on this port answers loopback clients only: set server.metrics.allowRemote, or serve metrics on a port of their own (server.metrics.port)\n',
  );
}

/** 404: metrics are off, or served on a port of their own. */
export function noMetricsHere(res: ServerResponse): void {
  res.writeHead(404, TEXT);
  res.end('no metrics here\n');
}

export interface MetricsServer {
  /** `http://host:port`, once listening. */
  origin: string;
  close(): Promise<void>;
}

/** A server of its own for /metrics (`server.metrics.port`): GET /metrics, 404 to anything else. */
export async function startMetricsServer(options: {
  port: number;
  host: string;
  metrics: BalanceMetrics;
  log?: Logger | undefined;
}): Promise<MetricsServer> {
  const server = createServer(
    // A scraper sends a few headers and no body: a slow client is cut early.
    { requestTimeout: 10_000, headersTimeout: 5000, keepAliveTimeout: 5000 },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') answerMetrics(req, res, options.metrics, options.log);
      else noMetricsHere(res);
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    origin: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
