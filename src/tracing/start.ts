import { trace } from '@opentelemetry/api';
import { core, NodeSDK } from '@opentelemetry/sdk-node';
import { createOtelTracing, SynchronousContextManager } from './otel.js';
import type { Tracing } from './types.js';

/**
 * OpenTelemetry's Node SDK, configured by its standard environment variables: the exporter
 * (OTEL_TRACES_EXPORTER, default otlp), where and how OTLP goes (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf or http/json),
 * the sampler (OTEL_TRACES_SAMPLER, default parent-based always on), the batching (OTEL_BSP_*)
 * and the service (OTEL_SERVICE_NAME, default "balance-api"). Loaded only when tracing is on
 * (`tracingWanted`): this module is the only way in to the SDK.
 */

/** What a span processor needs to be, as NodeSDK takes it (a test's in-memory exporter). */
type SpanProcessors = NonNullable<ConstructorParameters<typeof NodeSDK>[0]>['spanProcessors'];

export interface StartTracingOptions {
  /** Where spans go; default: the exporters the environment names. */
  spanProcessors?: SpanProcessors;
  /** Default process.env; the SDK itself always reads process.env. */
  env?: NodeJS.ProcessEnv;
}

export function startTracing(options: StartTracingOptions = {}): Tracing {
  const env = options.env ?? process.env;
  const named =
    (env.OTEL_SERVICE_NAME ?? '').trim() !== '' ||
    /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: 'balance-api' }),
    // Spans of our own making only: no automatic instrumentation of every module.
    instrumentations: [],
    // Each span is handed its parent: no AsyncLocalStorage (see SynchronousContextManager).
    contextManager: new SynchronousContextManager(),
    // Traces only: no metrics or logs are exported over OTLP (metrics are at GET /metrics).
    metricReaders: [],
    logRecordProcessors: [],
    // The trace context only, unless OTEL_PROPAGATORS says more: a caller's baggage is not
    // passed on to the providers.
    ...((env.OTEL_PROPAGATORS ?? '').trim() === ''
      ? { textMapPropagator: new core.W3CTraceContextPropagator() }
      : {}),
    ...(options.spanProcessors === undefined ? {} : { spanProcessors: options.spanProcessors }),
  });
  sdk.start();
  return createOtelTracing(trace.getTracer('balance-api'), () => sdk.shutdown());
}
