import { ID_PATTERN } from '../providers/provider-config.js';
import { type ProviderConfig, parseProviders } from './providers.js';
import type { ConfigSources } from './secrets.js';

/** The tenants: the file's top-level `providers` (the default tenant) and its `tenants`. */

export interface TenantConfig {
  id: string;
  providers: ProviderConfig[];
}

/** The tenant made of the file's top-level `providers`. */
export const DEFAULT_TENANT_ID = 'default';

/**
 * Every tenant of the document, ids unique. Providers are checked one by one, even when the top
 * level has problems too, so that every problem is reported at once; an entry the file schema
 * refuses (a tenant without an id of the id syntax or without providers) is left to its message.
 */
export function parseTenants(
  document: { providers?: unknown; tenants?: unknown },
  sources: ConfigSources,
  problems: string[],
): TenantConfig[] {
  const tenants: TenantConfig[] = [];
  if (Array.isArray(document.providers)) {
    tenants.push({
      id: DEFAULT_TENANT_ID,
      providers: parseProviders(document.providers, '', sources, problems),
    });
  }
  if (Array.isArray(document.tenants)) {
    document.tenants.forEach((tenant: unknown, index) => {
      const { id, providers } = (typeof tenant === 'object' && tenant !== null ? tenant : {}) as {
        id?: unknown;
        providers?: unknown;
      };
      // An id without the id syntax is reported by the schema, and never echoed.
      if (typeof id !== 'string' || !ID_PATTERN.test(id) || !Array.isArray(providers)) return;
      const label = `tenants[${index}] "${id}": `;
      if (tenants.some((other) => other.id === id)) {
        problems.push(
          id === DEFAULT_TENANT_ID && Array.isArray(document.providers)
            ? `${label}id: "default" is the tenant of the top-level providers already`
            : `${label}id: duplicate tenant id "${id}"`,
        );
        return;
      }
      tenants.push({ id, providers: parseProviders(providers, label, sources, problems) });
    });
  }
  if (document.providers === undefined && document.tenants === undefined) {
    problems.push('providers: is required (or tenants, each with its providers)');
  }
  return tenants;
}
