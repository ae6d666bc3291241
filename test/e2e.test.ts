import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KINDS } from '../src/providers/kinds.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { balanceCalls, DASHBOARD_QUERY, demoConfigDocument } from './helpers/app.js';
import { type RunningCommand, startCommand } from './helpers/process.js';

async function waitUntilReady(origin: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const response = await fetch(`${origin}/readyz`).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${origin}/readyz never answered 200`);
}

async function postQuery(origin: string, query: string) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    body: (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] },
  };
}

describe('balance-api serve --config FILE, over HTTP', () => {
  let sandbox: Sandbox;
  let server: RunningCommand;
  let origin: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    const dir = mkdtempSync(join(tmpdir(), 'balance-e2e-'));
    const document = demoConfigDocument((kind) => sandbox.baseUrl(kind as 'pik'));
    // Secrets by reference, as a deployment would give them: one from the environment, one from a file.
    writeFileSync(join(dir, 'sms-secret'), 'demo-sms-secret\n');
    const providers = document.providers.map((provider) => {
      if (provider.id === 'pik-main')
        return {
          ...provider,
          credentials: { appId: 'demo-pik-app', appSecret: { env: 'PIK_APP_SECRET' } },
        };
      if (provider.id === 'sms')
        return {
          ...provider,
          credentials: { devKey: 'demo-sms', devSecret: { file: 'sms-secret' } },
        };
      return provider;
    });
    const configPath = join(dir, 'balance-api.json');
    writeFileSync(
      configPath,
      JSON.stringify({ server: { host: '127.0.0.1', port: 4999 }, providers }),
    );
    server = startCommand(['serve', '--config', configPath, '--port', '0'], {
      PIK_APP_SECRET: 'demo-pik-secret',
    });
    const [, url] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
    origin = url as string;
    await waitUntilReady(origin);
  });

  afterAll(async () => {
    await server?.stop();
    await sandbox?.close();
  });

  it('answers /healthz and /readyz', async () => {
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    const ready = await fetch(`${origin}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });

  it('answers the dashboard query with exact balances from every provider', async () => {
    sandbox.clearCalls();
    const { status, body } = await postQuery(origin, DASHBOARD_QUERY);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const providers = body.data?.providers as { id: string; accounts: unknown[] }[];
    expect(providers.map((provider) => [provider.id, provider.accounts.length])).toEqual([
      ['pik-main', 4],
      ['ops', 3],
      ['acquirer', 2],
      ['treasury', 1],
      ['sms', 1],
      ['voice', 1],
    ]);
    const totals = body.data?.totals as { currencies: { currency: string; total: string }[] };
    expect(totals.currencies.find((row) => row.currency === 'EUR')?.total).toBe(
      '9007199254741413.41',
    );
    expect(totals.currencies.find((row) => row.currency === 'USD')?.total).toBe('16386.35');
    expect(totals.currencies.find((row) => row.currency === 'HKD')?.total).toBe('0.3');
    expect(
      sandbox.calls('pik').filter((call) => call.path === '/api/v1/balance/list'),
    ).toHaveLength(1);
    expect(sandbox.calls('prepaid')).toHaveLength(2);
    for (const kind of ['asset-accounts', 'merchant', 'wallet'] as const) {
      expect(balanceCalls(sandbox, kind)).toHaveLength(1);
    }
  });

  it('serves GraphiQL from the server itself, opening on the dashboard query', async () => {
    const response = await fetch(`${origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<title>balance-api</title>');
    expect(html).toContain('query Dashboard');
    // Nothing is loaded from elsewhere: no external script or stylesheet.
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/i);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/i);
  });
});

describe('balance-api with no configuration', () => {
  it('runs the built-in sandbox and says so', async () => {
    const server = startCommand(['serve', '--port', '0']);
    try {
      const [, url] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
      expect(server.stdout()).toContain('serving the built-in sandbox with demo data');
      await waitUntilReady(url as string);
      const { body } = await postQuery(
        url as string,
        `{
          providers { id accounts { balances { currency total } } }
          totals { complete currencies { currency total } }
        }`,
      );
      expect(body.data?.totals).toMatchObject({ complete: true });
      // The demo tenant of every kind in the kinds list, however many there are.
      const providers = body.data?.providers as {
        id: string;
        accounts: { balances: { currency: string; total: string }[] }[];
      }[];
      const ids = (document: { providers: Record<string, unknown>[] }) =>
        document.providers.map((provider) => provider.id as string);
      const unused = () => 'http://unused.test';
      expect(providers.map((provider) => provider.id)).toEqual(
        ids(createDemoConfigDocument(unused)),
      );
      const hkdOf = (wanted: string[]) =>
        providers
          .filter((provider) => wanted.includes(provider.id))
          .flatMap((provider) => provider.accounts.flatMap((account) => account.balances))
          .filter((balance) => balance.currency === 'HKD')
          .reduce((sum, balance) => sum.plus(balance.total), new Decimal(0));
      // The built-in kinds' HKD 0.1 and 0.2 at two providers make 0.3 exactly; the total adds
      // every provider's HKD exactly.
      expect(hkdOf(ids(demoConfigDocument(unused))).toString()).toBe('0.3');
      const totals = body.data?.totals as { currencies: { currency: string; total: string }[] };
      const hkd = totals.currencies.find((row) => row.currency === 'HKD')?.total;
      expect(hkd).toBeDefined();
      expect(
        new Decimal(hkd as string).equals(hkdOf(providers.map((provider) => provider.id))),
      ).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('balance-api with a wrong configuration', () => {
  it('exits 2 with one line per problem, no stack trace and no secret', async () => {
    const canary = 'canary-config-secret-0b77';
    const dir = mkdtempSync(join(tmpdir(), 'balance-bad-'));
    const configPath = join(dir, 'bad.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: [
          { id: 'a', kind: 'bank', baseUrl: 'https://a.example', credentials: { secret: canary } },
          {
            id: 'b',
            kind: 'pik',
            baseUrl: 'not a url',
            credentials: { appId: canary, appSecret: { env: 'UNSET_VAR' } },
          },
        ],
      }),
    );
    const run = startCommand(['serve', '--config', configPath]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      [
        'balance-api: the configuration is not valid.',
        `${configPath}: 2 problems`,
        `  - providers[0] "a": kind: expected one of ${PROVIDER_KINDS.join(', ')}, received a string that is none of them`,
        '  - providers[1] "b": baseUrl: expected an http:// or https:// URL',
        '',
      ].join('\n'),
    );
    expect(run.stdout()).not.toContain(canary);
  });

  it('says which variable is unset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-bad-'));
    const configPath = join(dir, 'bad.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: [
          {
            id: 'b',
            kind: 'pik',
            baseUrl: 'https://pik.example',
            credentials: { appId: 'x', appSecret: { env: 'UNSET_VAR' } },
          },
        ],
      }),
    );
    const run = startCommand(['serve'], { BALANCE_API_CONFIG: configPath });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      'providers[0] "b": credentials.appSecret: environment variable UNSET_VAR is not set',
    );
    expect(run.stderr()).not.toMatch(/\n\s+at /);
  });
});

describe('the other commands', () => {
  it('print-schema prints the checked-in SDL', async () => {
    const run = startCommand(['print-schema']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toBe(
      readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8'),
    );
  });

  it('sandbox runs the simulators alone, one base URL per kind', async () => {
    const run = startCommand(['sandbox', '--port', '0']);
    try {
      const [, pikUrl] = await run.waitForOutput(/pik: (http:\/\/\S+)/);
      const login = await fetch(`${pikUrl}/api/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ appId: 'demo-pik-app', appSecret: 'wrong' }),
      });
      expect(login.status).toBe(401);
      expect(await login.json()).toEqual({ code: 401, message: 'invalid credentials', data: null });
    } finally {
      await run.stop();
    }
  });

  it('rejects an unknown command with the usage', async () => {
    const run = startCommand(['serve-all']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('balance-api: unknown command "serve-all"');
    expect(run.stderr()).toContain('Usage: balance-api');
  });
});

describe('caller authentication of the real command', () => {
  it('refuses to serve without auth on a host other than loopback, saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-open-'));
    const configPath = join(dir, 'open.json');
    writeFileSync(configPath, JSON.stringify({ providers: [] }));
    const run = startCommand(['serve', '--config', configPath, '--port', '0'], { HOST: '0.0.0.0' });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      'host: refusing to serve on 0.0.0.0 without caller authentication: anyone who can reach this port could read every balance.',
    );
  });

  it('serves anonymously off loopback when server.allowAnonymous says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-open-'));
    const configPath = join(dir, 'open.json');
    writeFileSync(configPath, JSON.stringify({ server: { allowAnonymous: true }, providers: [] }));
    const run = startCommand(['serve', '--config', configPath, '--port', '0', '--host', '0.0.0.0']);
    try {
      await run.waitForOutput(/GraphiQL at http:\/\/\S+\/graphql/);
    } finally {
      await run.stop();
    }
  });

  it('hash-api-key prints the SHA-256 a configuration lists, and the server accepts the key', async () => {
    const hash = startCommand(['hash-api-key']);
    hash.child.stdin?.end('my-secret-key\n');
    expect(await hash.exited).toBe(0);
    const digest = hash.stdout().trim();
    expect(digest).toBe(createHash('sha256').update('my-secret-key').digest('hex'));

    const dir = mkdtempSync(join(tmpdir(), 'balance-auth-'));
    const configPath = join(dir, 'auth.json');
    writeFileSync(
      configPath,
      JSON.stringify({ auth: { apiKeys: [{ tenant: 'default', sha256: digest }] }, providers: [] }),
    );
    const server = startCommand(['serve', '--config', configPath, '--port', '0']);
    try {
      const [, origin] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
      const ask = (authorization?: string) =>
        fetch(`${origin}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(authorization ? { authorization } : {}),
          },
          body: JSON.stringify({ query: '{ providers { id } }' }),
        });
      const anonymous = await ask();
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="balance-api"');
      const allowed = await ask('Bearer my-secret-key');
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toEqual({ data: { providers: [] } });
      expect(server.stdout()).not.toContain('my-secret-key');
    } finally {
      await server.stop();
    }
  });
});
