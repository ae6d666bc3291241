import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rememberCallerAuth } from '../src/graphql/use-caller-auth.js';
import { DASHBOARD_QUERY, demoConfigDocument, startTestApp, type TestApp } from './helpers/app.js';

const API_KEY = 'acme-key-7d1c0e';
const ISSUER = 'https://id.example';
const AUDIENCE = 'balance-api';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;
async function keyWithId(kid: string): Promise<{ pair: KeyPair; jwk: JWK }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { pair, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

function sign(
  key: { pair: KeyPair; jwk: JWK },
  claims: Record<string, unknown> = {},
  options: {
    issuer?: string;
    audience?: string;
    /** null: no `exp` claim at all. */
    expiresIn?: string | number | null;
    notBefore?: string | number;
  } = {},
) {
  let jwt = new SignJWT({ tenant: 'acme', ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: key.jwk.kid as string })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt();
  if (options.expiresIn !== null) jwt = jwt.setExpirationTime(options.expiresIn ?? '5m');
  if (options.notBefore !== undefined) jwt = jwt.setNotBefore(options.notBefore);
  return jwt.sign(key.pair.privateKey);
}

const seconds = () => Math.floor(Date.now() / 1000);

function configWith(jwks: Record<string, unknown>) {
  return (baseUrl: (kind: string) => string) => ({
    auth: {
      apiKeys: [{ tenant: 'acme', sha256: createHash('sha256').update(API_KEY).digest('hex') }],
      jwt: {
        jwks,
        issuer: ISSUER,
        audience: AUDIENCE,
        tenantClaim: 'tenant',
        jwksRefreshCooldownMs: 0,
      },
    },
    tenants: [{ id: 'acme', providers: demoConfigDocument(baseUrl).providers }],
  });
}

const QUERY = '{ providers { id } }';

describe('caller authentication with API keys and a JWKS file', () => {
  let app: TestApp;
  let keyA: { pair: KeyPair; jwk: JWK };
  let keyB: { pair: KeyPair; jwk: JWK };
  let jwksFile: string;

  beforeAll(async () => {
    keyA = await keyWithId('key-a');
    keyB = await keyWithId('key-b');
    jwksFile = join(mkdtempSync(join(tmpdir(), 'balance-jwks-')), 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [keyA.jwk] }));
    app = await startTestApp({ configDocument: configWith({ file: jwksFile }) });
  });
  afterAll(() => app.close());

  async function refused(authorization: string | undefined, reason: string) {
    app.sandbox.clearCalls();
    const response = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: JSON.stringify({ query: '{ providers { id accounts { id } } totals { complete } }' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="balance-api"/);
    expect(await response.json()).toEqual({
      errors: [{ message: `Unauthenticated: ${reason}`, extensions: { code: 'UNAUTHENTICATED' } }],
    });
    // Nothing was fetched upstream.
    expect(app.sandbox.calls()).toHaveLength(0);
    return response;
  }

  it('accepts a configured API key and a valid JWT', async () => {
    expect(
      (await app.query(QUERY, undefined, { authorization: `Bearer ${API_KEY}` })).errors,
    ).toBeUndefined();
    const token = await sign(keyA);
    const result = await app.query(QUERY, undefined, { authorization: `Bearer ${token}` });
    expect(result.data?.providers).toHaveLength(6);
  });

  it('tolerates a small clock skew on exp', async () => {
    const token = await sign(keyA, {}, { expiresIn: seconds() - 10 });
    expect(
      (await app.query(QUERY, undefined, { authorization: `Bearer ${token}` })).errors,
    ).toBeUndefined();
  });

  it('refuses a request with no credentials', async () => {
    const response = await refused(
      undefined,
      'authentication is required: send "Authorization: Bearer <API key or JWT>"',
    );
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="balance-api"');
  });

  it('refuses a malformed Authorization header', async () => {
    await refused(
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      'the Authorization header must be "Bearer <API key or JWT>"',
    );
  });

  it('refuses a wrong API key', async () => {
    const response = await refused('Bearer acme-key-7d1c0f', 'the API key is not valid');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="balance-api", error="invalid_token", error_description="the API key is not valid"',
    );
  });

  it('refuses an expired JWT', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { expiresIn: seconds() - 600 })}`,
      'the token has expired',
    );
  });

  it('refuses a JWT without exp, which would be valid forever', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { expiresIn: null })}`,
      'the token has no "exp" claim: it must expire, at most 86400 s after it is presented',
    );
  });

  it('refuses a JWT that expires further ahead than auth.jwt.maxExpiresInSeconds (one day)', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { expiresIn: seconds() + 86_400 + 3600 })}`,
      'the token\'s "exp" claim is more than 86400 s ahead; at most 86400 s are accepted (auth.jwt.maxExpiresInSeconds)',
    );
    // A day ahead, give or take the clock tolerance, is accepted.
    const token = await sign(keyA, {}, { expiresIn: seconds() + 86_400 + 10 });
    expect(
      (await app.query(QUERY, undefined, { authorization: `Bearer ${token}` })).errors,
    ).toBeUndefined();
  });

  it('refuses a JWT that is not valid yet', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { notBefore: seconds() + 600 })}`,
      'the token is not valid yet',
    );
  });

  it('refuses a JWT for another audience', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { audience: 'other-api' })}`,
      'the token\'s "aud" claim is not accepted',
    );
  });

  it('refuses a JWT from another issuer', async () => {
    await refused(
      `Bearer ${await sign(keyA, {}, { issuer: 'https://evil.example' })}`,
      'the token\'s "iss" claim is not accepted',
    );
  });

  it('refuses a JWT naming an unknown tenant, or none', async () => {
    await refused(
      `Bearer ${await sign(keyA, { tenant: 'globex' })}`,
      'the token\'s "tenant" claim names no tenant of this server',
    );
    await refused(
      `Bearer ${await sign(keyA, { tenant: 42 })}`,
      'the token\'s "tenant" claim names no tenant of this server',
    );
  });

  it('refuses a JWT with a forged signature', async () => {
    const token = await sign(keyA);
    const [header, payload] = token.split('.');
    const forged = await sign(keyB);
    await refused(
      `Bearer ${header}.${payload}.${forged.split('.')[2]}`,
      'the token is not signed by a trusted key',
    );
  });

  it('refuses a JWT signed by a key not in the JWKS, and picks up a rotated JWKS file', async () => {
    const token = await sign(keyB);
    await refused(`Bearer ${token}`, 'the token is not signed by a trusted key');
    writeFileSync(jwksFile, JSON.stringify({ keys: [keyA.jwk, keyB.jwk] }));
    const result = await app.query(QUERY, undefined, { authorization: `Bearer ${token}` });
    expect(result.errors).toBeUndefined();
  });

  it('takes the result of an authentication made before Yoga (rememberCallerAuth), once', async () => {
    const ask = (nodeRequest: object, authorization: string) =>
      app.yoga.fetch(
        'http://balance-api.test/graphql',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({ query: QUERY }),
        },
        { req: nodeRequest },
      );
    // Accepted before: the header is not checked again.
    const accepted = {};
    rememberCallerAuth(accepted, { ok: true, tenantId: 'acme' });
    const served = await ask(accepted, 'Bearer not-checked-again');
    expect(served.status).toBe(200);
    expect(
      ((await served.json()) as { data: { providers: unknown[] } }).data.providers,
    ).toHaveLength(6);
    // Refused before: the same 401 and challenge as Yoga's own refusal.
    const refusedEarly = {};
    rememberCallerAuth(refusedEarly, {
      ok: false,
      reason: 'the API key is not valid',
      invalidToken: true,
    });
    const response = await ask(refusedEarly, `Bearer ${API_KEY}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="balance-api", error="invalid_token", error_description="the API key is not valid"',
    );
  });

  it('serves the GraphiQL page without credentials (GraphiQL sends them with each query)', async () => {
    const page = await app.yoga.fetch('http://balance-api.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const get = await app.yoga.fetch(
      'http://balance-api.test/graphql?query=%7Bproviders%7Bid%7D%7D',
      {
        headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
      },
    );
    expect(get.status).toBe(401);
  });
});

describe('every 401 carries a WWW-Authenticate challenge', () => {
  const NO_CREDENTIALS =
    'Unauthenticated: authentication is required: send "Authorization: Bearer <API key or JWT>"';
  const QUERY_STRING = `query=${encodeURIComponent(QUERY)}`;
  const PERSISTED = `extensions=${encodeURIComponent(
    JSON.stringify({
      persistedQuery: {
        version: 1,
        sha256Hash: createHash('sha256').update(DASHBOARD_QUERY).digest('hex'),
      },
    }),
  )}`;
  let development: TestApp;
  let production: TestApp;

  beforeAll(async () => {
    const keyed = (server: Record<string, unknown>) => (baseUrl: (kind: string) => string) => ({
      server,
      auth: {
        apiKeys: [
          { tenant: 'default', sha256: createHash('sha256').update(API_KEY).digest('hex') },
        ],
      },
      providers: demoConfigDocument(baseUrl).providers,
    });
    development = await startTestApp({ configDocument: keyed({}) });
    production = await startTestApp({
      sandbox: development.sandbox,
      configDocument: keyed({
        profile: 'production',
        trustedDocuments: { manifest: { file: 'schema/operations/manifest.json' } },
      }),
    });
  });
  afterAll(async () => {
    await production.close();
    await development.close();
  });

  const CASES: [string, 'development' | 'production', string, RequestInit, string][] = [
    ['a POST without credentials', 'development', '', { method: 'POST' }, 'none'],
    ['a POST with a wrong key', 'development', '', { method: 'POST' }, 'Bearer nope'],
    ['a GET for JSON', 'development', `?${QUERY_STRING}`, {}, 'none'],
    ['a GET with a wrong key', 'development', `?${QUERY_STRING}`, {}, 'Bearer nope'],
    ['a GET for server-sent events', 'development', `?${QUERY_STRING}`, {}, 'none'],
    ['a POST for server-sent events', 'development', '', { method: 'POST' }, 'none'],
    ['a GET for HTML with a query, GraphiQL off', 'production', `?${QUERY_STRING}`, {}, 'none'],
    ['a GET for HTML without a query, GraphiQL off', 'production', '', {}, 'none'],
    [
      'a GET for HTML with a persisted query, GraphiQL off',
      'production',
      `?${PERSISTED}`,
      {},
      'none',
    ],
  ];

  for (const [name, profile, search, init, authorization] of CASES) {
    it(`answers ${name} with 401 and a challenge`, async () => {
      const app = profile === 'development' ? development : production;
      app.sandbox.clearCalls();
      const accept = name.includes('events')
        ? 'text/event-stream'
        : name.includes('HTML')
          ? 'text/html, application/json'
          : 'application/json';
      const response = await app.yoga.fetch(`http://balance-api.test/graphql${search}`, {
        ...init,
        headers: {
          accept,
          'x-graphql-yoga-csrf': '1',
          ...(init.method === 'POST' ? { 'content-type': 'application/json' } : {}),
          ...(authorization === 'none' ? {} : { authorization }),
        },
        ...(init.method === 'POST' ? { body: JSON.stringify({ query: QUERY }) } : {}),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        authorization === 'none'
          ? 'Bearer realm="balance-api"'
          : 'Bearer realm="balance-api", error="invalid_token", error_description="the API key is not valid"',
      );
      expect(await response.json()).toEqual({
        errors: [
          {
            message:
              authorization === 'none'
                ? NO_CREDENTIALS
                : 'Unauthenticated: the API key is not valid',
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ],
      });
      expect(app.sandbox.calls()).toHaveLength(0);
    });
  }

  it('still serves the GraphiQL page itself without credentials where GraphiQL is on', async () => {
    const page = await development.yoga.fetch(`http://balance-api.test/graphql?${QUERY_STRING}`, {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });
});

describe('a JWKS URL, fetched and cached by jose', () => {
  let app: TestApp;
  let jwksServer: Server;
  let served: JWK[] = [];
  let fetches = 0;

  beforeAll(async () => {
    jwksServer = createServer((_req, res) => {
      fetches += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    app = await startTestApp({ configDocument: configWith({ url }) });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => jwksServer.close(resolve));
  });

  it('verifies with the served keys, caches them, and picks up a rotation', async () => {
    const keyA = await keyWithId('url-a');
    const keyB = await keyWithId('url-b');
    served = [keyA.jwk];
    const first = await app.query(QUERY, undefined, {
      authorization: `Bearer ${await sign(keyA)}`,
    });
    expect(first.errors).toBeUndefined();
    await app.query(QUERY, undefined, { authorization: `Bearer ${await sign(keyA)}` });
    expect(fetches).toBe(1);

    const rotated = await sign(keyB);
    const before = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${rotated}` },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(before.status).toBe(401);
    served = [keyA.jwk, keyB.jwk];
    const after = await app.query(QUERY, undefined, { authorization: `Bearer ${rotated}` });
    expect(after.errors).toBeUndefined();
  });
});
