import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';

interface RequestRecord {
  started: number;
  tenantId: string | undefined;
  operationName: string | undefined;
  errorCodes: string[];
}

/**
 * The operation name a client sent, when it is a GraphQL name of sensible length: the only names
 * written to a log line or used as a metric label; undefined otherwise.
 */
export function loggableOperationName(name: unknown): string | undefined {
  return typeof name === 'string' && OPERATION_NAME.test(name) ? name : undefined;
}

const OPERATION_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;

/**
 * One log line per HTTP request Yoga answers: method, path, status, tenant, operation name,
 * duration and the error codes of the result. Never the query's variables, headers or data.
 */
export function useRequestLog(log: Logger): Plugin {
  const records = new WeakMap<Request, RequestRecord>();
  return {
    onRequest({ request }) {
      records.set(request, {
        started: performance.now(),
        tenantId: undefined,
        operationName: undefined,
        errorCodes: [],
      });
    },
    onParams({ params, request }) {
      const record = records.get(request);
      // Logged only when it is a GraphQL name: otherwise it is client text of any length.
      const name = params.operationName;
      if (record !== undefined) {
        record.operationName = loggableOperationName(name);
      }
    },
    onExecute({ args }) {
      const context = args.contextValue as { request?: Request; tenant?: { id: string } };
      const record = context.request === undefined ? undefined : records.get(context.request);
      if (record !== undefined) record.tenantId = context.tenant?.id;
    },
    // The result as the client gets it, whatever refused it: a validation error never reaches
    // execution, and a variable error gets its code from a plugin that runs after this one.
    onResultProcess({ request, result }) {
      const record = records.get(request);
      if (record === undefined) return;
      for (const one of Array.isArray(result) ? result : [result]) {
        const errors = (one as { errors?: unknown } | null)?.errors;
        if (!Array.isArray(errors)) continue;
        for (const error of errors as { extensions?: { code?: unknown } }[]) {
          const code = error?.extensions?.code;
          record.errorCodes.push(typeof code === 'string' ? code : 'INTERNAL');
        }
      }
    },
    onResponse({ request, response }) {
      if (!log.isLevelEnabled('info')) return;
      const record = records.get(request);
      log.info(
        {
          method: request.method,
          path: new URL(request.url).pathname,
          status: response.status,
          tenantId: record?.tenantId ?? null,
          operationName: record?.operationName ?? null,
          errors: record?.errorCodes ?? [],
          durationMs:
            record === undefined
              ? null
              : Math.round((performance.now() - record.started) * 10) / 10,
        },
        'graphql request',
      );
    },
  };
}
