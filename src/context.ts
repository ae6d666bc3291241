import { type BalanceLoader, createBalanceLoader } from './balance-loader.js';
import type { AppRuntime, TenantRuntime } from './tenants.js';

/** Per-request state: whose balances, and the loaders that make each upstream read once. */
export interface RequestContext {
  tenant: TenantRuntime;
  loaders: { balances: BalanceLoader };
}

/** A new context, with new loaders, for one GraphQL request of one tenant. */
export function createRequestContext(runtime: AppRuntime, tenantId: string): RequestContext {
  const tenant = runtime.tenants.get(tenantId);
  if (tenant === undefined) throw new Error(`unknown tenant "${tenantId}"`);
  return { tenant, loaders: { balances: createBalanceLoader(tenant) } };
}
