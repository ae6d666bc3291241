import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { DASHBOARD_QUERY } from './helpers/app.js';
import { type RunningCommand, startCommand } from './helpers/process.js';

/**
 * The real `balance-api serve`, traced by its OTEL_* environment alone, exporting to an OTLP
 * receiver in this test: the spans of one query arrive with the caller's trace id, over
 * http/json and over http/protobuf, and the sandbox sees each upstream call carry that trace.
 */

interface Export {
  path: string;
  contentType: string;
  body: Buffer;
}

/** An OTLP/HTTP receiver: every export it takes, and an event for each. */
async function startReceiver(): Promise<{
  url: string;
  exports: Export[];
  events: EventEmitter;
  close(): Promise<void>;
}> {
  const exports: Export[] = [];
  const events = new EventEmitter();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = {
        path: req.url ?? '',
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      };
      exports.push(received);
      // An empty success answer, in the encoding the exporter sent.
      res.writeHead(200, { 'content-type': received.contentType });
      res.end(received.contentType.includes('json') ? '{}' : '');
      events.emit('export', received);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    events,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Resolves with the first export (past or future) that `matches`. */
function exportWith(
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  matches: (received: Export) => boolean,
): Promise<Export> {
  const found = receiver.exports.find(matches);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve) => {
    const listener = (received: Export) => {
      if (!matches(received)) return;
      receiver.events.off('export', listener);
      resolve(received);
    };
    receiver.events.on('export', listener);
  });
}

interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

/** Every span of OTLP/JSON exports, with its resource's service name. */
function spansOf(received: Export[]): (JsonSpan & { service: unknown })[] {
  return received
    .filter((each) => each.contentType.includes('json'))
    .flatMap((each) => {
      const document = JSON.parse(each.body.toString('utf8')) as {
        resourceSpans: {
          resource: { attributes: JsonSpan['attributes'] };
          scopeSpans: { spans: JsonSpan[] }[];
        }[];
      };
      return document.resourceSpans.flatMap((resource) => {
        const service = resource.resource.attributes.find((each) => each.key === 'service.name')
          ?.value.stringValue;
        return resource.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({ ...span, service })),
        );
      });
    });
}

const attribute = (span: JsonSpan, key: string) =>
  span.attributes.find((each) => each.key === key)?.value;

let sandbox: Sandbox;
let configPath: string;
let providerCount: number;

beforeAll(async () => {
  sandbox = await startSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'balance-otlp-'));
  configPath = join(dir, 'balance-api.json');
  const document = createDemoConfigDocument((kind) => `${sandbox.origin}/${kind}`);
  providerCount = document.providers.length;
  writeFileSync(configPath, JSON.stringify(document));
});
afterAll(() => sandbox?.close());

/** `balance-api serve` with the configuration and `env`; its GraphQL URL once it listens. */
async function serve(
  env: Record<string, string>,
): Promise<{ command: RunningCommand; url: string }> {
  const command = startCommand(['serve', '--config', configPath, '--port', '0'], {
    // Batches leave at once: the test waits for the export, not for a timer.
    OTEL_BSP_SCHEDULE_DELAY: '10',
    ...env,
  });
  const [, url] = await command.waitForOutput(/GraphiQL at (\S+)/);
  return { command, url: url as string };
}

/** One dashboard query with the caller's trace context. */
async function queryWithTrace(url: string) {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${spanId}-01` },
    body: JSON.stringify({ query: DASHBOARD_QUERY }),
  });
  expect(response.status).toBe(200);
  expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
  return { traceId, spanId };
}

describe('balance-api serve exporting over OTLP', () => {
  it('sends the spans of one query over http/json, continuing the caller trace', async () => {
    const receiver = await startReceiver();
    const { command, url } = await serve({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'balance-api-under-test',
    });
    try {
      sandbox.clearCalls();
      const caller = await queryWithTrace(url);
      // The operation's span ends last: its export carries the whole query.
      await exportWith(receiver, (received) =>
        spansOf([received]).some(
          (span) => span.traceId === caller.traceId && span.parentSpanId === caller.spanId,
        ),
      );
      expect(receiver.exports.every((each) => each.path === '/v1/traces')).toBe(true);
      const spans = spansOf(receiver.exports).filter((span) => span.traceId === caller.traceId);
      const operation = spans.find((span) => span.parentSpanId === caller.spanId);
      expect(operation).toMatchObject({ name: 'query Dashboard', kind: 2 });
      expect(operation?.service).toBe('balance-api-under-test');
      const reads = spans.filter((span) => span.name === 'provider read');
      expect(reads).toHaveLength(providerCount);
      for (const read of reads) expect(read.parentSpanId).toBe(operation?.spanId);
      const calls = spans.filter((span) => span.kind === 3);
      expect(calls.length).toBeGreaterThan(providerCount);
      for (const call of calls) {
        expect(reads.map((read) => read.spanId)).toContain(call.parentSpanId);
        expect(attribute(call, 'url.template')?.stringValue).toMatch(/^\/[a-z-]+\//);
        expect(attribute(call, 'http.response.status_code')?.intValue).toBe(200);
      }
      // Every upstream call carried this trace, and its own span as the parent.
      const sent = sandbox.calls().map((call) => call.headers.traceparent);
      expect(sent.sort()).toEqual(
        calls.map((call) => `00-${caller.traceId}-${call.spanId}-01`).sort(),
      );
    } finally {
      await command.stop();
      await receiver.close();
    }
  });

  it('sends http/protobuf to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone', async () => {
    const receiver = await startReceiver();
    const { command, url } = await serve({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/collector/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    });
    try {
      const caller = await queryWithTrace(url);
      // Trace ids are raw bytes in protobuf.
      const traceId = Buffer.from(caller.traceId, 'hex');
      const received = await exportWith(receiver, (each) => each.body.includes(traceId));
      expect(received.path).toBe('/collector/traces');
      expect(received.contentType).toBe('application/x-protobuf');
      expect(received.body.includes(Buffer.from('balance-api'))).toBe(true);
    } finally {
      await command.stop();
      await receiver.close();
    }
  });

  it('exports the spans still waiting when it stops', async () => {
    const receiver = await startReceiver();
    const { command, url } = await serve({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // No batch would leave before the process stops.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    let caller: { traceId: string };
    try {
      caller = await queryWithTrace(url);
    } finally {
      await command.stop();
      await receiver.close();
    }
    expect(await command.exited).toBe(0);
    expect(
      spansOf(receiver.exports).filter((span) => span.traceId === caller.traceId).length,
    ).toBeGreaterThan(10);
  });

  it('samples as OTEL_TRACES_SAMPLER says: always_off still carries the trace, unsampled', async () => {
    const receiver = await startReceiver();
    const { command, url } = await serve({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    try {
      sandbox.clearCalls();
      const caller = await queryWithTrace(url);
      const sent = sandbox.calls().map((call) => call.headers.traceparent);
      expect(sent.length).toBeGreaterThan(5);
      for (const traceparent of sent) {
        expect(traceparent).toMatch(new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-00$`));
      }
    } finally {
      await command.stop();
      await receiver.close();
    }
    // Nothing was sampled, so nothing was exported, even at the exit's flush.
    expect(receiver.exports).toEqual([]);
  });

  it('propagates nothing when tracing is off', async () => {
    const { command, url } = await serve({});
    try {
      sandbox.clearCalls();
      await queryWithTrace(url);
      expect(sandbox.calls().length).toBeGreaterThan(5);
      for (const call of sandbox.calls()) expect(call.headers).not.toHaveProperty('traceparent');
    } finally {
      await command.stop();
    }
  });
});
