import {
  type Context,
  type ContextManager,
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

/** The context of a span's children: under `parent`, or a trace of their own. */
function contextOf(parent: TraceSpan | undefined): Context {
  return parent instanceof OtelSpan ? trace.setSpan(ROOT_CONTEXT, parent.span) : ROOT_CONTEXT;
}

/**
 * The context manager the SDK is given: a context is active only while `with` runs its function,
 * synchronously. The application hands every span its parent, so nothing needs a context to
 * follow it across awaits; OpenTelemetry's default (AsyncLocalStorage) would pay for that on every
 * promise of every request, and the SDK's own uses (its exporter suppressing tracing of its calls)
 * are synchronous.
 */
export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const before = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = before;
    }
  }

  bind<T>(_context: Context, target: T): T {
    return target;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}

/** The longest a flush waits for the exporter: an unreachable collector must not hold the exit. */
const FLUSH_WAIT_MS = 5000;

export function createOtelTracing(tracer: Tracer, shutdown: () => Promise<void>): Tracing {
  return {
    serverSpan(name, headers, attributes, run) {
      const parent = propagation.extract(ROOT_CONTEXT, headers, HEADERS);
      return run(
        new OtelSpan(tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent)),
      );
    },
    internalSpan(name, attributes, parent) {
      return new OtelSpan(
        tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, contextOf(parent)),
      );
    },
    clientSpan(name, attributes, parent, headers) {
      const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, contextOf(parent));
      propagation.inject(trace.setSpan(ROOT_CONTEXT, span), headers);
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
