/**
 * What the application asks of tracing, in its own terms: the OpenTelemetry implementation
 * (`otel.ts`) is loaded only when tracing is on, and nothing else imports OpenTelemetry.
 */

export type SpanAttributes = Record<string, string | number | boolean>;

/** One span under way. */
export interface TraceSpan {
  setAttributes(attributes: SpanAttributes): void;
  /** Marks the span failed: status ERROR, `error.type` the code. */
  fail(code: string): void;
  updateName(name: string): void;
  /** Ends it, at `at` (a `performance.now()` time) when given, else now. */
  end(at?: number): void;
}

/** Headers as a `Request` holds them. */
export interface HeaderReader {
  get(name: string): string | null;
}

export interface Tracing {
  /**
   * A server span for one incoming request, continuing the trace its `traceparent` names, handed
   * to `run`. Spans under it name it as their parent: no context rides along asynchronously (an
   * AsyncLocalStorage would tax every promise of every request).
   */
  serverSpan<T>(
    name: string,
    headers: HeaderReader,
    attributes: SpanAttributes,
    run: (span: TraceSpan) => T,
  ): T;
  /** A span under `parent`; without one, a trace of its own. */
  internalSpan(name: string, attributes: SpanAttributes, parent: TraceSpan | undefined): TraceSpan;
  /**
   * A client span under `parent` (without one, a trace of its own), its context written into
   * `headers` (`traceparent`) so the call carries the trace.
   */
  clientSpan(
    name: string,
    attributes: SpanAttributes,
    parent: TraceSpan | undefined,
    headers: Record<string, string>,
  ): TraceSpan;
  /** Exports the spans ended so far (waiting at most a few seconds for the exporter). */
  flush(): Promise<void>;
  /** Exports what is left and stops. */
  shutdown(): Promise<void>;
}
