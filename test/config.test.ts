import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFromEnvironment, parseConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/messages.js';
import { PROVIDER_KINDS } from '../src/providers/kinds.js';

const SECRET_CANARY = 'canary-secret-7f3a9c';

function problemsOf(document: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(document, { source: 'config.json', env, baseDir: tmpdir() });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    // No problem ever echoes a secret's value.
    for (const problem of problems) expect(problem).not.toContain(SECRET_CANARY);
    expect((error as ConfigError).message).not.toContain(SECRET_CANARY);
    return problems;
  }
  throw new Error('expected a ConfigError');
}

const pik = (extra: Record<string, unknown> = {}) => ({
  id: 'pik-main',
  kind: 'pik',
  baseUrl: 'https://pik.example',
  credentials: { appId: 'app-1', appSecret: SECRET_CANARY },
  ...extra,
});

describe('configuration file', () => {
  it('accepts the example of CONTRACT.md and resolves env and file secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-config-'));
    writeFileSync(join(dir, 'ops-otp'), 'JBSWY3DPEHPK3PXP\n');
    const config = parseConfig(
      {
        server: { host: '127.0.0.1', port: 4000 },
        providers: [
          pik({
            name: 'PIK Global Account',
            timeoutMs: 5000,
            credentials: { appId: 'app-1', appSecret: { env: 'PIK_APP_SECRET' } },
          }),
          {
            id: 'sms',
            kind: 'prepaid',
            baseUrl: 'https://sms.example',
            currency: 'CNY',
            credentials: { devKey: 'dev', devSecret: { file: 'ops-otp' } },
          },
        ],
      },
      { source: 'config.json', env: { PIK_APP_SECRET: 'from-env' }, baseDir: dir },
    );
    const [first, second] = config.tenants[0]?.providers ?? [];
    expect(first?.credentials).toEqual({ appId: 'app-1', appSecret: 'from-env' });
    expect(second?.credentials).toEqual({ devKey: 'dev', devSecret: 'JBSWY3DPEHPK3PXP' });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4000 });
  });

  it('defaults timeoutMs to 5000, the prepaid currency to CNY and the server to 127.0.0.1:4000', () => {
    const config = parseConfig(
      {
        providers: [
          pik(),
          {
            id: 'sms',
            kind: 'prepaid',
            baseUrl: 'https://sms.example',
            credentials: { devKey: 'd', devSecret: 's' },
          },
        ],
      },
      { source: 'c', env: {}, baseDir: '.' },
    );
    expect(config.tenants[0]?.providers[0]?.timeoutMs).toBe(5000);
    expect(config.tenants[0]?.providers[1]).toMatchObject({ currency: 'CNY' });
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4000 });
  });

  it('takes the profile from NODE_ENV, with GraphiQL and introspection following it unless set', () => {
    const parse = (server: Record<string, unknown>, env: NodeJS.ProcessEnv) =>
      parseConfig({ server, providers: [] }, { source: 'c', env, baseDir: '.' }).server;
    expect(parse({}, {})).toMatchObject({
      profile: 'development',
      graphiql: true,
      introspection: true,
    });
    expect(parse({}, { NODE_ENV: 'production' })).toMatchObject({
      profile: 'production',
      graphiql: false,
      introspection: false,
    });
    expect(parse({ profile: 'production', graphiql: true }, {})).toMatchObject({
      graphiql: true,
      introspection: false,
    });
    expect(parse({}, {})).toMatchObject({
      requestTimeoutMs: 15_000,
      limits: { maxDepth: 12, maxAliases: 30, maxTokens: 2000, maxCost: 5000, maxDirectives: 20 },
    });
  });

  it('gives every server setting its default when the file leaves it out', () => {
    const { server } = parseConfig({ providers: [] }, { source: 'c', env: {}, baseDir: '.' });
    expect(server).toEqual({
      host: '127.0.0.1',
      port: 4000,
      profile: 'development',
      graphiql: true,
      introspection: true,
      requestTimeoutMs: 15_000,
      limits: {
        maxDepth: 12,
        maxAliases: 30,
        maxTokens: 2000,
        maxCost: 5000,
        maxDirectives: 20,
        maxListItems: 500,
      },
      maxRequestBytes: 1024 * 1024,
      cors: undefined,
      trustedDocuments: undefined,
      allowAnonymous: false,
      logLevel: 'info',
      headersTimeoutMs: 10_000,
      receiveTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5000,
      maxConnections: 1000,
      shutdownDelayMs: 0,
      drainTimeoutMs: 10_000,
      subscriptions: { maxPerConnection: 100, maxPerCaller: 1000, maxBufferedEvents: 1000 },
      metrics: { enabled: true, allowRemote: false, tenantLabel: false },
    });
    // A section given in part keeps the defaults of what it leaves out.
    expect(
      parseConfig(
        { server: { limits: { maxDepth: 5 }, cors: { origins: [] } }, providers: [] },
        { source: 'c', env: {}, baseDir: '.' },
      ).server,
    ).toMatchObject({
      limits: { maxDepth: 5, maxAliases: 30, maxListItems: 500 },
      cors: { origins: [], credentials: false },
      drainTimeoutMs: 10_000,
    });
  });

  it("refuses a headers timeout longer than the whole request's, naming both fields", () => {
    expect(
      problemsOf({ server: { headersTimeoutMs: 8000, receiveTimeoutMs: 5000 }, providers: [] }),
    ).toEqual([
      'server.headersTimeoutMs: expected at most server.receiveTimeoutMs (5000), received 8000',
    ]);
    // Left out, the headers timeout is 10 000 or the request timeout, whichever is shorter: a
    // setting the file never named does not refuse the start.
    expect(
      parseConfig(
        { server: { receiveTimeoutMs: 5000 }, providers: [] },
        { source: 'c', env: {}, baseDir: '.' },
      ).server,
    ).toMatchObject({ headersTimeoutMs: 5000, receiveTimeoutMs: 5000 });
    expect(
      parseConfig(
        { server: { headersTimeoutMs: 5000, receiveTimeoutMs: 5000 }, providers: [] },
        { source: 'c', env: {}, baseDir: '.' },
      ).server,
    ).toMatchObject({ headersTimeoutMs: 5000, receiveTimeoutMs: 5000 });
  });

  it('says which number a field expects and which it received, and what type when it is no number', () => {
    expect(
      problemsOf({
        providers: [
          pik({ pollIntervalMs: 5, cacheTtlMs: -1, maxConcurrency: 1.5, staleIfErrorMs: '60' }),
        ],
      }),
    ).toEqual([
      'providers[0] "pik-main": maxConcurrency: expected a whole number, received 1.5',
      'providers[0] "pik-main": cacheTtlMs: expected a number of at least 0, received -1',
      'providers[0] "pik-main": staleIfErrorMs: expected number, received string',
      'providers[0] "pik-main": pollIntervalMs: expected a number of at least 100, received 5',
    ]);
  });

  it('defaults retries and the circuit breaker of each provider', () => {
    const config = parseConfig({ providers: [pik()] }, { source: 'c', env: {}, baseDir: '.' });
    expect(config.tenants[0]?.providers[0]).toMatchObject({
      retry: { maxRetries: 2, maxRetryAfterMs: 2000 },
      circuitBreaker: { failureThreshold: 5, cooldownMs: 10_000 },
    });
    expect(problemsOf({ providers: [pik({ retry: { maxRetries: 5 } })] })).toEqual([
      'providers[0] "pik-main": retry.maxRetries: expected a number of at most 2, received 5',
    ]);
  });

  it('reports an unknown kind naming the provider and the field', () => {
    expect(problemsOf({ providers: [pik({ kind: 'bank' })] })).toEqual([
      `providers[0] "pik-main": kind: expected one of ${PROVIDER_KINDS.join(', ')}, received a string that is none of them`,
    ]);
  });

  it("never echoes a value typed in the wrong field: only values that have the field's syntax", () => {
    // A secret pasted into `kind`, a tenant id, an env variable name or a key name.
    expect(problemsOf({ providers: [pik({ kind: SECRET_CANARY })] })).toEqual([
      `providers[0] "pik-main": kind: expected one of ${PROVIDER_KINDS.join(', ')}, received a string that is none of them`,
    ]);
    expect(
      problemsOf({
        auth: { apiKeys: [{ tenant: 'acme', sha256: 'a'.repeat(64) }] },
        tenants: [{ id: `${SECRET_CANARY} !`, providers: [] }],
      }),
    ).toEqual(['tenants[0].id: expected lower-case letters, digits and "-"']);
    expect(
      problemsOf({
        providers: [pik({ credentials: { appId: 'a', appSecret: { env: `${SECRET_CANARY}=x` } } })],
      }),
    ).toEqual([
      'providers[0] "pik-main": credentials.appSecret: the environment variable named there is not set (and its name is not a valid variable name)',
    ]);
    expect(problemsOf({ providers: [pik({ [`${SECRET_CANARY} x`]: 1 })] })).toEqual([
      'providers[0] "pik-main": an unknown key (not shown: it is not a valid key name)',
    ]);
  });

  it('names an unknown key when it looks like a key', () => {
    expect(problemsOf({ providers: [pik({ timeoutMS: 1 })] })).toEqual([
      'providers[0] "pik-main": timeoutMS: unknown key',
    ]);
  });

  it('refuses a PORT or LOG_LEVEL it cannot use, without echoing it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ providers: [pik()] }));
    const problems = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfigFromEnvironment({ configPath: path, env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).not.toContain(SECRET_CANARY);
        return (error as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems({ PORT: SECRET_CANARY })).toEqual([
      'PORT: expected a port number from 0 to 65535',
    ]);
    expect(problems({ LOG_LEVEL: SECRET_CANARY })).toEqual([
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    ]);
    expect(problems({ LOG_LEVEL: 'bogus' })).toEqual([
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
    ]);
    expect(
      loadConfigFromEnvironment({ configPath: path, env: { LOG_LEVEL: 'warn' } })?.server.logLevel,
    ).toBe('warn');
  });

  it('reports a missing credential', () => {
    expect(problemsOf({ providers: [pik({ credentials: { appId: 'a' } })] })).toEqual([
      'providers[0] "pik-main": credentials.appSecret: is required',
    ]);
  });

  it('reports an unset environment variable without echoing any secret', () => {
    expect(
      problemsOf({
        providers: [
          pik({ credentials: { appId: SECRET_CANARY, appSecret: { env: 'NOPE_SECRET' } } }),
        ],
      }),
    ).toEqual([
      'providers[0] "pik-main": credentials.appSecret: environment variable NOPE_SECRET is not set',
    ]);
  });

  it('reports an unreadable secret file', () => {
    const [problem] = problemsOf({
      providers: [pik({ credentials: { appId: 'a', appSecret: { file: '/nonexistent/x' } } })],
    });
    expect(problem).toBe(
      'providers[0] "pik-main": credentials.appSecret: cannot read file /nonexistent/x (ENOENT)',
    );
  });

  it('reports a duplicate id', () => {
    expect(problemsOf({ providers: [pik(), pik()] })).toEqual([
      'providers[1] "pik-main": id: duplicate id "pik-main", already used by providers[0]',
    ]);
  });

  it('reports a bad URL and a bad id', () => {
    expect(problemsOf({ providers: [pik({ id: 'PIK Main', baseUrl: 'ftp://x' })] })).toEqual([
      'providers[0]: id: expected lower-case letters, digits and "-"',
      'providers[0]: baseUrl: expected an http:// or https:// URL',
    ]);
  });

  it('refuses credentials inside a base URL, without echoing them', () => {
    expect(
      problemsOf({ providers: [pik({ baseUrl: `https://user:${SECRET_CANARY}@pik.example` })] }),
    ).toEqual([
      'providers[0] "pik-main": baseUrl: must not carry a user name or password; give them under "credentials"',
    ]);
  });

  it('reports unknown keys at every level', () => {
    expect(
      problemsOf({
        server: { port: 1, colour: 'blue' },
        extra: true,
        providers: [
          pik({
            retries: 3,
            credentials: { appId: 'a', appSecret: SECRET_CANARY, token: SECRET_CANARY },
          }),
        ],
      }).sort(),
    ).toEqual([
      'extra: unknown key',
      'providers[0] "pik-main": credentials.token: unknown key',
      'providers[0] "pik-main": retries: unknown key',
      'server.colour: unknown key',
    ]);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({
      providers: [
        pik({ timeoutMs: -1 }),
        {
          id: 'sms',
          kind: 'prepaid',
          baseUrl: 'https://sms.example',
          credentials: { devKey: 1, devSecret: SECRET_CANARY },
        },
        'not an object',
      ],
    });
    expect(problems).toEqual([
      'providers[0] "pik-main": timeoutMs: expected a number of at least 1, received -1',
      'providers[1] "sms": credentials.devKey: expected a string, { "env": "NAME" } or { "file": "PATH" }',
      'providers[2]: expected an object',
    ]);
  });

  it('accepts path overrides and rejects a malformed one', () => {
    const config = parseConfig(
      {
        providers: [
          pik({
            paths: { login: '/oauth/token', balanceByCurrency: '/v9/balances/{currencyCode}' },
          }),
        ],
      },
      { source: 'c', env: {}, baseDir: '.' },
    );
    expect(config.tenants[0]?.providers[0]).toMatchObject({ paths: { login: '/oauth/token' } });
    expect(
      problemsOf({ providers: [pik({ paths: { balanceByCurrency: '/v9/balances' } })] }),
    ).toEqual(['providers[0] "pik-main": paths.balanceByCurrency: must contain {currencyCode}']);
    expect(problemsOf({ providers: [pik({ paths: { login: 'https://elsewhere/x' } })] })).toEqual([
      'providers[0] "pik-main": paths.login: expected a path starting with "/", without query or spaces',
    ]);
  });

  it('reads the file from --config before BALANCE_API_CONFIG, and PORT/HOST override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-config-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify({ server: { port: 4100 }, providers: [pik()] }));
    const fromEnv = loadConfigFromEnvironment({
      env: { BALANCE_API_CONFIG: path, PORT: '4200', HOST: '0.0.0.0' },
    });
    expect(fromEnv?.server).toMatchObject({ host: '0.0.0.0', port: 4200 });
    const fromFlag = loadConfigFromEnvironment({
      configPath: path,
      env: { BALANCE_API_CONFIG: '/nope.json' },
      port: 4300,
    });
    expect(fromFlag?.server.port).toBe(4300);
    expect(loadConfigFromEnvironment({ env: {} })).toBeUndefined();
  });

  it('says when the file is missing or not JSON', () => {
    expect(() => loadConfigFromEnvironment({ configPath: '/nonexistent.json', env: {} })).toThrow(
      '/nonexistent.json: 1 problem\n  - cannot read the configuration file (ENOENT)',
    );
    const dir = mkdtempSync(join(tmpdir(), 'balance-config-'));
    const path = join(dir, 'broken.json');
    writeFileSync(path, `{"providers": [ {"credentials": {"appSecret": "${SECRET_CANARY}"} ]`);
    try {
      loadConfigFromEnvironment({ configPath: path, env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems[0]).toMatch(/^the file is not valid JSON \(/);
      expect((error as ConfigError).message).not.toContain(SECRET_CANARY);
    }
    // A secret typed without its quotes: the parser's message would quote the text around it.
    const unquoted = join(dir, 'unquoted.json');
    writeFileSync(unquoted, `{"providers": [{"credentials": {"appSecret": ${SECRET_CANARY}}}]}`);
    try {
      loadConfigFromEnvironment({ configPath: unquoted, env: {} });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'the file is not valid JSON (unexpected text at line 1, column 46)',
      ]);
      expect((error as ConfigError).message).not.toContain('canary');
    }
  });
});

describe('tenants and auth in the configuration file', () => {
  const hex = 'a'.repeat(64);
  const parse = (document: unknown) =>
    parseConfig(document, { source: 'c', env: {}, baseDir: tmpdir() });

  it('makes the top-level providers the "default" tenant, beside the listed tenants', () => {
    const config = parse({
      auth: {
        apiKeys: [
          { tenant: 'acme', sha256: hex },
          { tenant: 'default', sha256: 'B'.repeat(64) },
        ],
      },
      providers: [pik()],
      tenants: [{ id: 'acme', providers: [pik()] }],
    });
    expect(config.tenants.map((tenant) => [tenant.id, tenant.providers.map((p) => p.id)])).toEqual([
      ['default', ['pik-main']],
      ['acme', ['pik-main']],
    ]);
    expect(config.auth?.apiKeys).toEqual([
      { tenant: 'acme', sha256: hex, federation: false },
      { tenant: 'default', sha256: 'b'.repeat(64), federation: false },
    ]);
  });

  it('names the tenant and the provider of a problem inside a tenant', () => {
    expect(
      problemsOf({
        auth: { apiKeys: [{ tenant: 'acme', sha256: hex }] },
        tenants: [{ id: 'acme', providers: [pik({ credentials: { appId: 'a' } })] }],
      }),
    ).toEqual(['tenants[0] "acme": providers[0] "pik-main": credentials.appSecret: is required']);
  });

  it('reports duplicate tenants, unknown tenants of keys, bad digests and an empty auth section', () => {
    expect(
      problemsOf({
        auth: { apiKeys: [{ tenant: 'globex', sha256: hex }] },
        providers: [pik()],
        tenants: [
          { id: 'default', providers: [] },
          { id: 'acme', providers: [] },
          { id: 'acme', providers: [] },
        ],
      }),
    ).toEqual([
      'tenants[0] "default": id: "default" is the tenant of the top-level providers already',
      'tenants[2] "acme": id: duplicate tenant id "acme"',
      'auth.apiKeys[0].tenant: no tenant "globex" is configured',
    ]);
    expect(
      problemsOf({ auth: { apiKeys: [{ tenant: 'default', sha256: 'xyz' }] }, providers: [] }),
    ).toEqual([
      'auth.apiKeys[0].sha256: expected 64 hex digits: the SHA-256 of the key (balance-api hash-api-key prints it)',
    ]);
    expect(problemsOf({ auth: {}, providers: [] })).toEqual([
      'auth: expected "apiKeys", "jwt" or both',
    ]);
  });

  it('requires auth when there is no default tenant, and providers or tenants at all', () => {
    expect(problemsOf({ tenants: [{ id: 'acme', providers: [] }] })).toEqual([
      'auth: is required when there is no default tenant (top-level providers): without it no caller can be mapped to a tenant',
    ]);
    expect(problemsOf({ server: {} })).toEqual([
      'providers: is required (or tenants, each with its providers)',
    ]);
  });

  it('checks the JWKS file at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-jwks-'));
    writeFileSync(join(dir, 'bad.json'), '{"keys": 3}');
    const jwt = (file: string) => ({
      auth: { jwt: { jwks: { file }, issuer: 'https://id.example', audience: 'balance-api' } },
      providers: [],
    });
    const fails = (document: unknown) => {
      try {
        parseConfig(document, { source: 'c', env: {}, baseDir: dir });
      } catch (error) {
        return (error as ConfigError).problems;
      }
      return [];
    };
    expect(fails(jwt('bad.json'))).toEqual([
      `auth.jwt.jwks.file: file ${join(dir, 'bad.json')} is not a JWKS: expected {"keys": [ ... ]}`,
    ]);
    expect(fails(jwt('none.json'))).toEqual([
      `auth.jwt.jwks.file: cannot read file ${join(dir, 'none.json')} (ENOENT)`,
    ]);
    writeFileSync(join(dir, 'good.json'), '{"keys": []}');
    expect(fails(jwt('good.json'))).toEqual([]);
  });
});
