import { assetAccountsKind } from './asset-accounts/index.js';
import { merchantKind } from './merchant/index.js';
import { pikKind } from './pik/index.js';
import { prepaidKind } from './prepaid/index.js';
import type { ProviderKindDefinition } from './provider-kind.js';
import { restKind } from './rest/index.js';
import { walletKind } from './wallet/index.js';

/**
 * Every provider kind balance-api can read, in the order configuration messages list them.
 * Adding a kind is adding its folder and its line here (and in `src/sandbox/kinds.ts`).
 */
export const PROVIDER_KIND_DEFINITIONS = [
  pikKind,
  assetAccountsKind,
  merchantKind,
  walletKind,
  prepaidKind,
  restKind,
] as const;

type Definitions = (typeof PROVIDER_KIND_DEFINITIONS)[number];

/** The name of a provider kind, e.g. "pik": a configuration's `kind`. */
export type ProviderKind = Definitions['name'];

/** The definition of kind `K`. */
export type ProviderKindDefinitionOf<K extends ProviderKind> = Extract<Definitions, { name: K }>;

/** Every kind's name, in the list's order. */
export const PROVIDER_KINDS: readonly ProviderKind[] = PROVIDER_KIND_DEFINITIONS.map(
  (definition) => definition.name,
);

const BY_NAME: ReadonlyMap<string, Definitions> = new Map(
  PROVIDER_KIND_DEFINITIONS.map((definition) => [definition.name, definition]),
);

/** The definition of the kind named `name`; undefined for a name no kind has. */
export function providerKindDefinition(name: string): ProviderKindDefinition | undefined {
  return BY_NAME.get(name) as ProviderKindDefinition | undefined;
}

/** Whether `name` is a provider kind. */
export function isProviderKind(name: string): name is ProviderKind {
  return BY_NAME.has(name);
}
