import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { idSchema } from '../providers/provider-config.js';
import { errorCode } from './messages.js';

/** The `auth` section: who may call, by API key or by a JWT checked against a JWKS. */

export const authSchema = z.strictObject({
  /** Callers that present an API key; only its SHA-256 is configured. Default none. */
  apiKeys: z
    .array(
      z.strictObject({
        tenant: idSchema,
        sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, {
          error:
            'expected 64 hex digits: the SHA-256 of the key (balance-api hash-api-key prints it)',
        }),
        /** This caller is a federation gateway: it may read `_service { sdl }`. Default false. */
        federation: z.boolean().default(false),
      }),
    )
    .default([]),
  /** Callers that present a JWT from an identity provider. Default none. */
  jwt: z
    .strictObject({
      jwks: z.union(
        [
          z.strictObject({ file: z.string().min(1) }),
          z.strictObject({ url: z.url({ protocol: /^https?$/ }) }),
        ],
        { error: 'expected { "file": PATH } or { "url": "https://..." }' },
      ),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      /** The claim naming the caller's tenant; default "tenant". */
      tenantClaim: z.string().min(1).default('tenant'),
      /** Leeway for exp and nbf; default 30 s. */
      clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
      /** How soon a token with an unknown key id may make the JWKS be read again; default 30 s. */
      jwksRefreshCooldownMs: z.number().int().min(0).max(3_600_000).default(30_000),
      /** A token must carry `exp`, at most this far ahead; default 86 400 (one day). */
      maxExpiresInSeconds: z.number().int().min(60).max(31_536_000).default(86_400),
    })
    .optional(),
});
type ParsedAuthConfig = z.output<typeof authSchema>;
type ParsedJwtConfig = NonNullable<ParsedAuthConfig['jwt']>;

/** JWT callers, validated. */
interface JwtConfig extends Omit<ParsedJwtConfig, 'jwks'> {
  /** A file (with the keys read at start) or a URL. */
  jwks: { file: string; keys: Record<string, unknown>[] } | { url: string };
}

/** Caller authentication, validated. */
export interface AuthConfig extends Omit<ParsedAuthConfig, 'jwt'> {
  jwt: JwtConfig | undefined;
}

/**
 * The auth section checked against the tenants (every key's tenant exists) with its JWKS file
 * read; undefined when the file has none.
 */
export function resolveAuth(
  auth: ParsedAuthConfig | undefined,
  tenants: readonly { id: string }[],
  baseDir: string,
  problems: string[],
): AuthConfig | undefined {
  if (auth === undefined) return undefined;
  if (auth.apiKeys.length === 0 && auth.jwt === undefined) {
    problems.push('auth: expected "apiKeys", "jwt" or both');
  }
  auth.apiKeys.forEach((key, index) => {
    if (!tenants.some((tenant) => tenant.id === key.tenant)) {
      problems.push(`auth.apiKeys[${index}].tenant: no tenant "${key.tenant}" is configured`);
    }
  });
  let jwt: AuthConfig['jwt'];
  if (auth.jwt !== undefined) {
    const { jwks } = auth.jwt;
    if ('file' in jwks) {
      const file = resolve(baseDir, jwks.file);
      let keys: Record<string, unknown>[] = [];
      try {
        keys = readJwksFile(file).keys;
      } catch (error) {
        problems.push(`auth.jwt.jwks.file: ${(error as Error).message}`);
      }
      jwt = { ...auth.jwt, jwks: { file, keys } };
    } else {
      jwt = { ...auth.jwt, jwks: { url: jwks.url } };
    }
  }
  return {
    apiKeys: auth.apiKeys.map((key) => ({ ...key, sha256: key.sha256.toLowerCase() })),
    jwt,
  };
}

/** A JSON Web Key Set from a file: `{"keys": [...]}`. Read at start and again on key rotation. */
export function readJwksFile(path: string): { keys: Record<string, unknown>[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read file ${path} (${errorCode(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`file ${path} is not JSON`);
  }
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'object' || key === null)) {
    throw new Error(`file ${path} is not a JWKS: expected {"keys": [ ... ]}`);
  }
  return { keys: keys as Record<string, unknown>[] };
}
