import { randomBytes } from 'node:crypto';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { setProcessTracing } from '../../src/tracing/active.js';
import { startTracing } from '../../src/tracing/start.js';
import type { Tracing } from '../../src/tracing/types.js';

/**
 * OpenTelemetry's SDK in the test's process, as `balance-api serve` starts it, with an in-memory
 * exporter: the process's tracing from the suite's start to its end, each test's spans alone
 * (the exporter is emptied before each). Apps started afterwards trace through it.
 */
export function useInMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing | undefined;
  beforeAll(() => {
    tracing = startTracing({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    setProcessTracing(tracing);
  });
  afterAll(async () => {
    setProcessTracing(undefined);
    await tracing?.shutdown();
  });
  beforeEach(() => exporter.reset());
  return exporter;
}

/** A W3C trace context of a caller: a new trace id and the caller's span id. */
export function callerContext(): { traceId: string; spanId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

export const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
export const traceOf = (span: ReadableSpan): string => span.spanContext().traceId;
export const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** Everything of a span an exporter sends but its ids and times, as text to search for canaries. */
export function spanText(span: ReadableSpan): string {
  return JSON.stringify({
    name: span.name,
    attributes: span.attributes,
    events: span.events,
    links: span.links,
    status: span.status,
    resource: span.resource.attributes,
  });
}
