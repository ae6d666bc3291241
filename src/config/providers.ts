import type { z } from 'zod';
import {
  type PROVIDER_KIND_DEFINITIONS,
  PROVIDER_KINDS,
  type ProviderKind,
  providerKindDefinition,
} from '../providers/kinds.js';
import {
  ID_PATTERN,
  type ProviderConfigSchema,
  type ResolvedProviderConfig,
} from '../providers/provider-config.js';
import { describeIssue } from './messages.js';
import { type ConfigSources, resolveCredentials } from './secrets.js';

/**
 * A tenant's `providers`: each entry validated by its kind's schema (from the kinds list, see
 * src/providers/kinds.ts) and its secrets resolved.
 */

type Definitions = (typeof PROVIDER_KIND_DEFINITIONS)[number];

/** A provider as its kind's schema parsed it, secrets not yet resolved. */
type RawProviderConfig = Definitions extends infer D
  ? D extends { configSchema: infer S extends ProviderConfigSchema }
    ? z.infer<S>
    : never
  : never;

/** A provider's configuration with every secret resolved to its value, its credentials typed. */
export type ProviderConfig = Definitions extends infer D
  ? D extends { configSchema: infer S extends ProviderConfigSchema }
    ? ResolvedProviderConfig<S>
    : never
  : never;
export type ProviderConfigOf<K extends ProviderKind> = Extract<ProviderConfig, { kind: K }>;

/** One tenant's providers, each validated and its secrets resolved; ids unique in the tenant. */
export function parseProviders(
  rawProviders: unknown[],
  prefix: string,
  sources: ConfigSources,
  problems: string[],
): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  const seen = new Map<string, number>();
  rawProviders.forEach((raw, index) => {
    const label = `${prefix}${providerLabel(raw, index)}`;
    const parsed = parseProvider(raw, label, problems);
    if (parsed === undefined) return;
    const first = seen.get(parsed.id);
    if (first !== undefined) {
      problems.push(
        `${label}: id: duplicate id "${parsed.id}", already used by providers[${first}]`,
      );
      return;
    }
    seen.set(parsed.id, index);
    const credentials = resolveCredentials(parsed.credentials, label, sources, problems);
    if (credentials !== undefined) providers.push({ ...parsed, credentials } as ProviderConfig);
  });
  return providers;
}

function parseProvider(
  raw: unknown,
  label: string,
  problems: string[],
): RawProviderConfig | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${label}: expected an object`);
    return undefined;
  }
  const kind = (raw as { kind?: unknown }).kind;
  const definition = typeof kind === 'string' ? providerKindDefinition(kind) : undefined;
  if (definition === undefined) {
    // The value is not echoed: a secret typed in the wrong field would be printed.
    const received =
      typeof kind === 'string'
        ? 'a string that is none of them'
        : kind === undefined
          ? 'nothing'
          : typeof kind;
    problems.push(
      `${label}: kind: expected one of ${PROVIDER_KINDS.join(', ')}, received ${received}`,
    );
    return undefined;
  }
  const result = definition.configSchema.safeParse(raw);
  if (!result.success) {
    problems.push(...result.error.issues.map((issue) => `${label}: ${describeIssue(issue, raw)}`));
    return undefined;
  }
  return result.data as RawProviderConfig;
}

/** `providers[2] "ops"`, or `providers[2]` where the entry has no usable id. */
function providerLabel(raw: unknown, index: number): string {
  const id = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
  return typeof id === 'string' && ID_PATTERN.test(id)
    ? `providers[${index}] "${id}"`
    : `providers[${index}]`;
}
