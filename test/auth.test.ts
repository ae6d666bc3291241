import { afterEach, describe, expect, it } from 'vitest';
import { createMovableClock } from '../src/sandbox/clock.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import {
  balanceCalls,
  demoConfigWith,
  loginCalls,
  startTestApp,
  type TestApp,
} from './helpers/app.js';

const PIK_ACCOUNTS = '{ provider(id: "pik-main") { accounts { id } } }';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('pik authentication, as the contract says', () => {
  it('logs in with a JSON body of appId and appSecret, then sends the token as a Bearer header', async () => {
    app = await startTestApp();
    const result = await app.query(PIK_ACCOUNTS);
    expect(result.errors).toBeUndefined();
    const [login] = loginCalls(app.sandbox, 'pik');
    expect(login?.method).toBe('POST');
    expect(login?.path).toBe('/api/v1/auth/token');
    expect(login?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(login?.body ?? '')).toEqual({
      appId: 'demo-pik-app',
      appSecret: 'demo-pik-secret',
    });
    const [read] = balanceCalls(app.sandbox, 'pik');
    expect(read?.path).toBe('/api/v1/balance/list');
    expect(read?.headers.authorization).toMatch(/^Bearer pik-[0-9a-f]{32}$/);
    expect(read?.status).toBe(200);
  });

  it('makes one login for 20 concurrent cold queries, and reuses the token afterwards', async () => {
    // Without coalescing, so that each query makes its own balance call with the shared token.
    app = await startTestApp({ configDocument: demoConfigWith({ coalesceReads: false }) });
    const current = app;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => current.query(PIK_ACCOUNTS)),
    );
    for (const result of results) expect(result.errors).toBeUndefined();
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(20);
    const tokens = new Set(
      balanceCalls(app.sandbox, 'pik').map((call) => call.headers.authorization),
    );
    expect(tokens.size).toBe(1);
    await app.query(PIK_ACCOUNTS);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
  });

  it('re-logs in once and still answers when the provider revoked the token', async () => {
    app = await startTestApp();
    await app.query(PIK_ACCOUNTS);
    app.sandbox.simulators.pik.revokeTokens();
    app.sandbox.clearCalls();
    const result = await app.query(PIK_ACCOUNTS);
    expect(result.errors).toBeUndefined();
    const provider = result.data?.provider as { accounts: unknown[] };
    expect(provider.accounts).toHaveLength(4);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.status)).toEqual([401, 200]);
  });

  it('re-logs in once when the provider says the token expired before our clock did', async () => {
    // balance-api's clock runs 3 hours behind the provider's: its cached token looks fresh to it.
    const ours = createMovableClock();
    app = await startTestApp({ now: ours.now });
    await app.query(PIK_ACCOUNTS);
    app.sandbox.clock.advance(3 * 3600_000);
    app.sandbox.clearCalls();
    const result = await app.query(PIK_ACCOUNTS);
    expect(result.errors).toBeUndefined();
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.status)).toEqual([401, 200]);
  });

  it('renews a token shortly before it expires, without waiting for a 401', async () => {
    app = await startTestApp();
    await app.query(PIK_ACCOUNTS);
    // The demo token lives 7200 s; at 7200 - 30 s it is inside the renewal margin.
    app.sandbox.clock.advance(7170_000);
    app.sandbox.clearCalls();
    await app.query(PIK_ACCOUNTS);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.status)).toEqual([200]);
  });

  it('honours a token life the provider sets, however short', async () => {
    app = await startTestApp();
    app.sandbox.simulators.pik.setTokenTtlSeconds(10);
    await app.query(PIK_ACCOUNTS);
    app.sandbox.clock.advance(5_000);
    await app.query(PIK_ACCOUNTS);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    app.sandbox.clock.advance(5_000);
    await app.query(PIK_ACCOUNTS);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(app.sandbox, 'pik').every((call) => call.status === 200)).toBe(true);
  });

  it('reports rejected credentials as UPSTREAM_AUTH_FAILED on that provider only, never retrying the login', async () => {
    const canary = 'canary-pik-secret-55e1';
    app = await startTestApp({
      configDocument: (baseUrl) => {
        const document = createDemoConfigDocument(baseUrl);
        const [pik, ...rest] = document.providers;
        return {
          providers: [
            { ...pik, credentials: { appId: 'demo-pik-app', appSecret: canary } },
            ...rest,
          ],
        };
      },
    });
    const result = await app.query('{ providers { id accounts { id } } }');
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0]).toMatchObject({
      path: ['providers', 0, 'accounts'],
      extensions: { code: 'UPSTREAM_AUTH_FAILED', providerId: 'pik-main', retryable: false },
    });
    const providers = result.data?.providers as { id: string; accounts: unknown[] | null }[];
    expect(providers[0]?.accounts).toBeNull();
    expect(providers.slice(1).map((provider) => [provider.id, provider.accounts?.length])).toEqual([
      ['ops', 3],
      ['acquirer', 2],
      ['treasury', 1],
      ['sms', 1],
      ['voice', 1],
    ]);
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(JSON.stringify(result)).not.toContain(canary);
  });
});
