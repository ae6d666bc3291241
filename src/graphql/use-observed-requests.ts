import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { BalanceMetrics } from '../metrics/registry.js';
import type { TraceSpan, Tracing } from '../tracing/types.js';
import { loggableOperationName } from './use-request-log.js';

/**
 * The GraphQL requests' metrics (`balance_api_graphql_requests_total{operation,status}` and
 * `balance_api_graphql_request_duration_seconds{operation}`) and their server spans, continuing an
 * incoming `traceparent`. The operation is its name in the document (`anonymous` without one,
 * `other` past the first 100 names); never the URL, the query text or its variables.
 */
export interface ObservedRequestsOptions {
  metrics?: BalanceMetrics | undefined;
  tracing?: Tracing | undefined;
  /** Where GraphQL is served; other paths Yoga answers (a 404) are not observed. */
  path?: string;
}

interface RequestRecord {
  started: number;
  /** A GraphQL request was read: its parameters, at least. */
  graphql: boolean;
  operation: string | undefined;
  span: TraceSpan | undefined;
}

/**
 * The path of an absolute URL, read from the string: Yoga parses a request's URL only when asked,
 * and a parse per request is not what a metric should cost.
 */
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2);
  if (start < 0) return '/';
  const end = url.indexOf('?', start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/** The name and type of the operation a document runs, when it names one. */
function operationOf(
  document: DocumentNode,
  operationName: string | undefined,
): { name: string | undefined; type: string } | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return undefined;
  const name = operation.name?.value;
  return {
    name: loggableOperationName(name),
    type: operation.operation,
  };
}

/**
 * The record rides on the request under a symbol of this module's own: a WeakMap entry per
 * request (an ephemeron, and an identity hash on the request) cost more than the metric.
 */
const RECORD = Symbol('observed request');
type Observed = Request & { [RECORD]?: RequestRecord };
const records = {
  get: (request: Request): RequestRecord | undefined => (request as Observed)[RECORD],
  set: (request: Request, record: RequestRecord): void => {
    (request as Observed)[RECORD] = record;
  },
};

function newRecord(span: TraceSpan | undefined): RequestRecord {
  return { started: performance.now(), graphql: false, operation: undefined, span };
}

/** The request's server span, when tracing is on: the parent its provider reads name. */
export function requestSpanOf(request: Request): TraceSpan | undefined {
  return records.get(request)?.span;
}

export function useObservedRequests(options: ObservedRequestsOptions): Plugin {
  const { metrics, tracing } = options;
  const path = options.path ?? '/graphql';
  const isGraphql = (request: Request) => pathOf(request.url) === path;

  const plugin: Plugin = {
    onRequest({ request }) {
      // With tracing on, the request's span already made its record (and read its path).
      if (records.get(request) !== undefined || !isGraphql(request)) return;
      records.set(request, newRecord(undefined));
    },
    onParams({ params, request }) {
      const record = records.get(request);
      if (record === undefined) return;
      record.graphql = true;
      const name = params.operationName;
      const named = loggableOperationName(name);
      if (named !== undefined) record.operation = named;
    },
    onParse({ context }) {
      const { request, params } = context as {
        request?: Request;
        params?: { operationName?: string | null };
      };
      const record = request === undefined ? undefined : records.get(request);
      if (record === undefined) return;
      return ({ result }) => {
        if (!(typeof result === 'object' && result !== null && 'kind' in result)) return;
        const operation = operationOf(result as DocumentNode, params?.operationName ?? undefined);
        if (operation === undefined) return;
        record.operation = operation.name;
        const { span } = record;
        if (span === undefined) return;
        const { name, type } = operation;
        // Plain literals: no spread per request.
        if (name === undefined) {
          span.updateName(type);
          span.setAttributes({ 'graphql.operation.type': type });
        } else {
          span.updateName(`${type} ${name}`);
          span.setAttributes({ 'graphql.operation.type': type, 'graphql.operation.name': name });
        }
      };
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (record === undefined) return;
      const { status } = response;
      record.span?.setAttributes({ 'http.response.status_code': status });
      if (status >= 500) record.span?.fail(String(status));
      // GraphiQL's page is not a GraphQL request; a refusal before the parameters were read is.
      if (metrics === undefined || (!record.graphql && status < 400)) return;
      metrics.countRequest(record.operation, status, (performance.now() - record.started) / 1000);
    },
  };
  if (tracing !== undefined) {
    plugin.instrumentation = {
      request({ request }, wrapped) {
        if (!isGraphql(request)) return wrapped();
        const { url } = request;
        return tracing.serverSpan(
          'GraphQL',
          request.headers,
          {
            'http.request.method': request.method,
            'url.path': path,
            'url.scheme': url.slice(0, url.indexOf(':')),
            'http.route': path,
          },
          async (span) => {
            records.set(request, newRecord(span));
            try {
              await wrapped();
            } finally {
              span.end();
            }
          },
        );
      },
    };
  }
  return plugin;
}
