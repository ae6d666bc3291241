import {
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { HeaderReader, SpanAttributes, TraceSpan, Tracing } from './types.js';

/** The application's tracing on OpenTelemetry's API, with whatever SDK registered it. */

class OtelSpan implements TraceSpan {
  constructor(readonly span: Span) {}

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(attributes);
  }

  fail(code: string): void {
    this.span.setAttribute('error.type', code);
    this.span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  }

  updateName(name: string): void {
    this.span.updateName(name);
  }

  end(at?: number): void {
    // A performance.now() time: the SDK reads a number below performance.now() as one.
    this.span.end(at);
  }
}

const HEADERS: TextMapGetter<HeaderReader> = {
  get: (carrier, key) => carrier.get(key) ?? undefined,
  // Only the propagators' own headers are ever asked for by name.
  keys: () => [],
};

/** The longest a flush waits for the exporter: an unreachable collector must not hold the exit. */
const FLUSH_WAIT_MS = 5000;

export function createOtelTracing(tracer: Tracer, shutdown: () => Promise<void>): Tracing {
  return {
    serverSpan(name, headers, attributes, run) {
      const parent = propagation.extract(ROOT_CONTEXT, headers, HEADERS);
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      return context.with(trace.setSpan(parent, span), () => run(new OtelSpan(span)));
    },
    internalSpan(name, attributes, root) {
      return new OtelSpan(tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes, root }));
    },
    clientSpan(name, attributes, parent, headers) {
      const parentContext =
        parent instanceof OtelSpan
          ? trace.setSpan(context.active(), parent.span)
          : context.active();
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parentContext);
      propagation.inject(trace.setSpan(parentContext, span), headers);
      return new OtelSpan(span);
    },
    async flush() {
      // The registered provider, behind the API's proxy.
      const provider = trace.getTracerProvider() as {
        getDelegate?: () => { forceFlush?: () => Promise<void> };
      };
      const flushed = provider.getDelegate?.().forceFlush?.();
      if (flushed === undefined) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        flushed.catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, FLUSH_WAIT_MS);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
    shutdown,
  };
}
