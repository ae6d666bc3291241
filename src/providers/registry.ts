import type { ProviderConfig } from '../config/providers.js';
import type { AdapterOptions, ProviderAdapter } from './adapter.js';
import { PROVIDER_KIND_DEFINITIONS, type ProviderKind, providerKindDefinition } from './kinds.js';
import { createProviderAdapter } from './provider-kind.js';

/** The display name a provider gets when its configuration names none. */
export const DEFAULT_PROVIDER_NAMES = Object.fromEntries(
  PROVIDER_KIND_DEFINITIONS.map((definition) => [definition.name, definition.defaultName]),
) as Readonly<Record<ProviderKind, string>>;

/** The adapter of one configured provider, by its kind. */
export function createAdapter(options: AdapterOptions<ProviderConfig>): ProviderAdapter {
  const definition = providerKindDefinition(options.config.kind);
  if (definition === undefined) {
    throw new Error(`provider kind "${options.config.kind}" has no definition`);
  }
  // The session layer refuses, for every kind at once, a token longer than the provider allows.
  options.tokens.setMaxTokenBytes(options.config.maxTokenBytes);
  // The definition is the one named by config.kind: the configuration was parsed by its schema.
  return createProviderAdapter(definition, options as Parameters<typeof createProviderAdapter>[1]);
}
