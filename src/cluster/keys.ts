import type { ValueCodec } from './value-codec.js';

/**
 * Redis key and channel names: `<prefix><what>:<tenant>:<provider>:<digest>`. Tenant and provider
 * ids are lower-case letters, digits and "-", so ":" separates them unambiguously; the digest is a
 * keyed digest of the provider's kind, resolved base URL and credentials, so a changed
 * configuration (a rotated secret, another upstream) never meets the sessions, reads, holds or
 * lease of the old one, and no key tells anything about a secret.
 */

/** What a key holds. */
export type ClusterKeyKind =
  /** The shared session token (sealed). */
  | 'session'
  /** Who is logging in now (a random token of the holder). */
  | 'login-lock'
  /** A hash of recent successful reads by currency set (sealed). */
  | 'read'
  /**
   * Who reads the provider for the cluster now, one key per currency set (`:<set digest>`
   * follows): the others wait for its read rather than read too.
   */
  | 'read-lock'
  /** Until when the provider asked to be left alone (Retry-After), in ms since the epoch. */
  | 'hold'
  /** Which instance polls the provider for subscribers (its instance id). */
  | 'lease'
  /** The pub/sub channel of the provider's read events (sealed messages). */
  | 'events';

/** What identifies a provider's upstream account: what its sessions and reads are valid for. */
export interface ProviderIdentity {
  kind: string;
  /** The resolved base URL. */
  baseUrl: string;
  /** The resolved credentials (secret values); only their keyed digest is ever used. */
  credentials: Readonly<Record<string, string | undefined>>;
  /**
   * The other settings that decide what the provider answers (its paths, a wallet id, a rest
   * mapping...), if any; only their keyed digest is used. Tuning (timeouts, windows) is left out.
   */
  settings?: unknown;
}

/** One (tenant, provider) as the cluster knows it, and the names of its keys. */
export interface ClusterProviderRef {
  readonly tenantId: string;
  readonly providerId: string;
  /** The keyed digest of the provider's identity (32 hex digits). */
  readonly digest: string;
  key(what: ClusterKeyKind): string;
}

/** `<prefix><what>:<tenant>:<provider>:<digest>`. */
function clusterKey(
  prefix: string,
  what: ClusterKeyKind,
  tenantId: string,
  providerId: string,
  digest: string,
): string {
  return `${prefix}${what}:${tenantId}:${providerId}:${digest}`;
}

/** The keyed digest of a provider's identity; credentials in a fixed order, empty ones left out. */
export function providerDigest(codec: ValueCodec, identity: ProviderIdentity): string {
  const credentials = Object.entries(identity.credentials)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return identity.settings === undefined
    ? codec.digest('provider', identity.kind, identity.baseUrl, credentials)
    : codec.digest(
        'provider',
        identity.kind,
        identity.baseUrl,
        credentials,
        canonical(identity.settings),
      );
}

/** `value` with its objects' keys sorted, so equal settings give equal digests. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, entry]) => [name, canonical(entry)]),
  );
}

export function createProviderRef(
  prefix: string,
  codec: ValueCodec,
  tenantId: string,
  providerId: string,
  identity: ProviderIdentity,
): ClusterProviderRef {
  const digest = providerDigest(codec, identity);
  const keys = new Map<ClusterKeyKind, string>();
  return {
    tenantId,
    providerId,
    digest,
    key(what) {
      let key = keys.get(what);
      if (key === undefined) {
        key = clusterKey(prefix, what, tenantId, providerId, digest);
        keys.set(what, key);
      }
      return key;
    },
  };
}
