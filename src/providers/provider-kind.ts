import type { z } from 'zod';
import type {
  AdapterOptions,
  KindAdapter,
  KindAdapterOptions,
  ProviderAdapter,
} from './adapter.js';
import type { ProviderConfigSchema, ResolvedProviderConfig } from './provider-config.js';
import { createProviderHttp } from './provider-http.js';

/**
 * Everything the application knows of one provider kind, declared once in the kind's folder
 * (`src/providers/<kind>/index.ts`) and listed once in `src/providers/kinds.ts`; configuration,
 * the GraphQL enum, the registry and the tests derive from it. Its simulator and demo data are
 * the kind's sandbox part (`sandbox.ts`, listed in `src/sandbox/kinds.ts`), which production
 * never loads.
 */
export interface ProviderKindDefinition<
  Name extends string = string,
  Schema extends ProviderConfigSchema<Name> = ProviderConfigSchema<Name>,
> {
  /** `kind` in the configuration, the sandbox's mount (`/<name>`) and `test/fixtures/<name>/`. */
  readonly name: Name;
  /** The kind's value of the GraphQL enum `ProviderKind`, e.g. `PIK`, and its description. */
  readonly graphql: { readonly value: string; readonly description?: string | undefined };
  /** The display name of a provider whose configuration gives none. */
  readonly defaultName: string;
  /** The kind's entry in `providers` (strict: an unknown key is a problem). */
  readonly configSchema: Schema;
  /** The kind's adapter for one configured provider. */
  readonly createAdapter: (
    options: KindAdapterOptions<ResolvedProviderConfig<Schema>>,
  ) => KindAdapter;
  /** The upstream path of each `paths` key the configuration may override (PROVIDERS.md's). */
  readonly defaultPaths: {
    readonly [P in keyof z.infer<Schema>['paths']]-?: string;
  };
}

/** A kind's definition, checked: its schema's `kind` is its name, its paths have defaults. */
export function defineProviderKind<
  const Name extends string,
  Schema extends ProviderConfigSchema<Name>,
>(definition: ProviderKindDefinition<Name, Schema>): ProviderKindDefinition<Name, Schema> {
  return definition;
}

/**
 * A provider's adapter: the kind's adapter beside the provider's own transport (its base URL,
 * retries and body cap around the shared dispatcher), which the provider reader bounds by each
 * read's deadline and hands to `fetchAccounts`.
 */
export function createProviderAdapter<
  Name extends string,
  Schema extends ProviderConfigSchema<Name>,
>(
  definition: ProviderKindDefinition<Name, Schema>,
  options: AdapterOptions<ResolvedProviderConfig<Schema>>,
): ProviderAdapter {
  const transport = createProviderHttp(options);
  const adapter = definition.createAdapter(options);
  return {
    kind: options.config.kind as ProviderAdapter['kind'],
    capabilities: adapter.capabilities,
    transport,
    fetchAccounts: (query, http) => adapter.fetchAccounts(query, http),
  };
}
