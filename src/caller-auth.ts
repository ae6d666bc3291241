import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { type AuthConfig, readJwksFile } from './config/auth.js';
import { DEFAULT_TENANT_ID } from './config/tenants.js';

/** Who is calling: a tenant, or why the credentials were refused (safe to show the caller). */
export type CallerAuthResult =
  | {
      ok: true;
      tenantId: string;
      /**
       * The caller is a federation gateway (an API key configured with `"federation": true`): it
       * may read `_service { sdl }` when introspection is off. Absent: false.
       */
      federation?: boolean;
    }
  | { ok: false; reason: string; invalidToken: boolean };

export interface CallerAuthenticator {
  /** Whether callers must authenticate at all. */
  readonly required: boolean;
  authenticate(authorization: string | null): Promise<CallerAuthResult>;
}

/** An authenticator whose settings a configuration reload replaces, the listener kept. */
export interface ReloadableAuthenticator extends CallerAuthenticator {
  /**
   * Authenticates every request from now on with `next`; a request already authenticated keeps
   * its result (a subscription open with a key since removed goes on).
   */
  replace(next: CallerAuthenticator): void;
}

/**
 * Delegates to `initial`, then to whatever `replace` installs: the server and its WebSocket
 * transport hold this one object, so new keys and JWT settings apply without a restart.
 */
export function createReloadableAuthenticator(
  initial: CallerAuthenticator,
): ReloadableAuthenticator {
  let current = initial;
  return {
    get required() {
      return current.required;
    },
    authenticate: (authorization) => current.authenticate(authorization),
    replace(next) {
      current = next;
    },
  };
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Maps `Authorization: Bearer <API key or JWT>` to a tenant. API keys are compared by their
 * SHA-256 in constant time; JWTs are verified with jose (signature, exp and nbf with a small
 * tolerance, issuer, audience; exp required, at most `maxExpiresInSeconds` ahead) and name their
 * tenant in a claim. Without an `auth` section every caller gets the default tenant.
 */
export function createCallerAuthenticator(
  auth: AuthConfig | undefined,
  tenantIds: ReadonlySet<string>,
): CallerAuthenticator {
  if (auth === undefined) {
    return {
      required: false,
      authenticate: async () => ({ ok: true, tenantId: DEFAULT_TENANT_ID }),
    };
  }
  const keyDigests = auth.apiKeys.map((key) => ({
    tenant: key.tenant,
    federation: key.federation,
    digest: Buffer.from(key.sha256, 'hex'),
  }));
  const jwt = auth.jwt;
  const keySet = jwt === undefined ? undefined : createKeySet(jwt);

  function byApiKey(token: string): CallerAuthResult {
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let found: (typeof keyDigests)[number] | undefined;
    // Every configured key is compared, each in constant time, so timing says nothing of which.
    for (const key of keyDigests) {
      if (timingSafeEqual(digest, key.digest) && found === undefined) found = key;
    }
    return found === undefined
      ? { ok: false, reason: 'the API key is not valid', invalidToken: true }
      : { ok: true, tenantId: found.tenant, federation: found.federation };
  }

  async function byJwt(token: string): Promise<CallerAuthResult> {
    if (jwt === undefined || keySet === undefined) {
      return { ok: false, reason: 'the API key is not valid', invalidToken: true };
    }
    try {
      const { payload } = await jwtVerify(token, keySet, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        clockTolerance: jwt.clockToleranceSeconds,
        // A token without exp would be valid forever.
        requiredClaims: ['exp'],
      });
      // jose checked that exp is a number in the future; it must not be too far in the future.
      const ahead = (payload.exp as number) - Date.now() / 1000;
      if (ahead > jwt.maxExpiresInSeconds + jwt.clockToleranceSeconds) {
        return {
          ok: false,
          reason: `the token's "exp" claim is more than ${jwt.maxExpiresInSeconds} s ahead; at most ${jwt.maxExpiresInSeconds} s are accepted (auth.jwt.maxExpiresInSeconds)`,
          invalidToken: true,
        };
      }
      const tenant = payload[jwt.tenantClaim];
      if (typeof tenant !== 'string' || !tenantIds.has(tenant)) {
        return {
          ok: false,
          reason: `the token's "${jwt.tenantClaim}" claim names no tenant of this server`,
          invalidToken: true,
        };
      }
      return { ok: true, tenantId: tenant };
    } catch (error) {
      return { ok: false, reason: jwtFailure(error, jwt.maxExpiresInSeconds), invalidToken: true };
    }
  }

  return {
    required: true,
    async authenticate(authorization) {
      const match = authorization?.match(/^Bearer[ ]+(\S+)\s*$/i);
      if (!match?.[1]) {
        return {
          ok: false,
          reason:
            authorization === null || authorization.trim() === ''
              ? 'authentication is required: send "Authorization: Bearer <API key or JWT>"'
              : 'the Authorization header must be "Bearer <API key or JWT>"',
          invalidToken: authorization !== null && authorization.trim() !== '',
        };
      }
      const token = match[1];
      return JWT_SHAPE.test(token) && jwt !== undefined ? byJwt(token) : byApiKey(token);
    },
  };
}

/** The key set: jose's remote set for a URL (fetched, cached, refetched for an unknown key id). */
function createKeySet(jwt: NonNullable<AuthConfig['jwt']>): JWTVerifyGetKey {
  if ('url' in jwt.jwks) {
    return createRemoteJWKSet(new URL(jwt.jwks.url), {
      cooldownDuration: jwt.jwksRefreshCooldownMs,
      cacheMaxAge: 10 * 60_000,
    });
  }
  // A file is read again when a token names a key it lacks (a rotation), at most once a cooldown.
  const file = jwt.jwks.file;
  type KeySet = Parameters<typeof createLocalJWKSet>[0];
  let local = createLocalJWKSet({ keys: jwt.jwks.keys } as KeySet);
  let readAt = performance.now();
  return async (header, token) => {
    try {
      return await local(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (performance.now() - readAt < jwt.jwksRefreshCooldownMs) throw error;
      readAt = performance.now();
      local = createLocalJWKSet(readJwksFile(file) as KeySet);
      return local(header, token);
    }
  };
}

/** Why jose refused a token, in words that reveal nothing of the token or the keys. */
function jwtFailure(error: unknown, maxExpiresInSeconds: number): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'exp' && error.reason === 'missing') {
      return `the token has no "exp" claim: it must expire, at most ${maxExpiresInSeconds} s after it is presented`;
    }
    return error.claim === 'nbf'
      ? 'the token is not valid yet'
      : `the token's "${error.claim}" claim is not accepted`;
  }
  if (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWSSignatureVerificationFailed
  ) {
    return 'the token is not signed by a trusted key';
  }
  return 'the token could not be verified';
}
