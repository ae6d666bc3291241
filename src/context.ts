import { GraphQLError } from 'graphql';
import { type BalanceLoader, createBalanceLoader } from './balance-loader.js';
import type { AppRuntime, TenantRuntime } from './tenants.js';
import type { TraceSpan } from './tracing/types.js';

/** Per-request state: whose balances, and the loaders that make each upstream read once. */
export interface RequestContext {
  tenant: TenantRuntime;
  loaders: { balances: BalanceLoader };
  /** When every provider read of this request must be over (a `performance.now()` time). */
  deadlineAt: number;
}

/** A new context, with new loaders, for one GraphQL request of one tenant. */
export function createRequestContext(
  runtime: AppRuntime,
  tenantId: string,
  /** The request's whole budget: the configuration's `server.requestTimeoutMs`. */
  requestTimeoutMs: number,
  /** The request's span, when tracing is on. */
  traceParent?: TraceSpan,
): RequestContext {
  const tenant = runtime.tenants.get(tenantId);
  if (tenant === undefined) {
    // A caller authenticated just before a reload removed its tenant: it is no longer anyone's.
    throw new GraphQLError("Unauthenticated: the caller's tenant is no longer configured.", {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  const deadlineAt = performance.now() + requestTimeoutMs;
  return {
    tenant,
    deadlineAt,
    loaders: { balances: createBalanceLoader(tenant, deadlineAt, traceParent) },
  };
}
