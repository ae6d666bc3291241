import type { Tracing } from './types.js';

/**
 * The process's tracing, once `balance-api serve` has started it (only when the OTEL_*
 * environment asks for it); apps built afterwards trace through it. No OpenTelemetry import here.
 */
let processTracing: Tracing | undefined;

export function setProcessTracing(tracing: Tracing | undefined): void {
  processTracing = tracing;
}

/** The process's tracing; undefined when tracing is off. */
export function getProcessTracing(): Tracing | undefined {
  return processTracing;
}
