import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { createMovableClock } from '../src/sandbox/clock.js';
import { parseSandboxFault } from '../src/sandbox/faults.js';
import { createUpstreamHttp } from '../src/upstream/http.js';
import {
  callWithSessionToken,
  TokenCacheByTenantAndProvider,
} from '../src/upstream/token-cache.js';
import {
  balanceCalls,
  demoConfigDocument,
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
        const document = demoConfigDocument(baseUrl);
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

describe('a session token that cannot be sent is never kept', () => {
  const PIK_MESSAGE_SAFE = (message: string) => {
    expect(message).not.toContain('canary');
    expect(message).not.toMatch(/xxxx|\r|\n/);
  };

  it('a login whose token holds CR LF fails as UPSTREAM_BAD_RESPONSE, and the next read logs in afresh', async () => {
    app = await startTestApp();
    app.sandbox.setFault('pik', parseSandboxFault('bad-tokenx1'));
    const failed = await app.query(PIK_ACCOUNTS);
    expect(failed.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      providerId: 'pik-main',
      retryable: false,
    });
    expect(failed.errors?.[0]?.message).toBe(
      'pik-main: the login returned a token that cannot be sent in a header (expected visible ASCII characters only, received a line break)',
    );
    PIK_MESSAGE_SAFE(failed.errors?.[0]?.message ?? '');
    expect(app.runtime.tokens.slot('default', 'pik-main').current()).toBeUndefined();
    // Nothing was sent with it, and the fault is over: the next read logs in again and answers.
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(0);
    const after = await app.query(PIK_ACCOUNTS);
    expect(after.errors).toBeUndefined();
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.status)).toEqual([200]);
  });

  it('a login whose token is longer than maxTokenBytes fails the same way, saying so', async () => {
    app = await startTestApp();
    app.sandbox.setFault('pik', parseSandboxFault('long-token:8193x1'));
    const failed = await app.query(PIK_ACCOUNTS);
    expect(failed.errors?.[0]?.extensions?.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(failed.errors?.[0]?.message).toBe(
      'pik-main: the login returned a token longer than maxTokenBytes (8192) bytes (received 8193 bytes)',
    );
    expect((await app.query(PIK_ACCOUNTS)).errors).toBeUndefined();
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(app.sandbox, 'pik').map((call) => call.status)).toEqual([200]);
  });

  it('a token within maxTokenBytes that the upstream answers 431 to is dropped: the next read logs in again', async () => {
    app = await startTestApp({ configDocument: demoConfigWith({ maxTokenBytes: 32_768 }) });
    // 20 000 characters: past Node's 16 KiB header limit, so the sandbox itself answers 431.
    app.sandbox.setFault('pik', parseSandboxFault('long-tokenx1'));
    const failed = await app.query(PIK_ACCOUNTS);
    expect(failed.errors?.[0]?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      providerId: 'pik-main',
      retryable: false,
    });
    expect(failed.errors?.[0]?.message).toBe(
      'pik-main: the session token could not be sent (the provider answered HTTP 431, request header fields too large); the session is dropped and the next read logs in again',
    );
    expect(app.runtime.tokens.slot('default', 'pik-main').current()).toBeUndefined();
    const after = await app.query(PIK_ACCOUNTS);
    expect(after.errors).toBeUndefined();
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(2);
  });

  it('a merchant rotation to a token that cannot be sent is not adopted: the session goes on with the old one', async () => {
    app = await startTestApp();
    const ACQUIRER = '{ provider(id: "acquirer") { accounts { id } } }';
    // Sessions of 100 s are inside the 2-minute rotation window from the start.
    app.sandbox.simulators.merchant.setSessionTtlSeconds(100);
    expect((await app.query(ACQUIRER)).errors).toBeUndefined();
    // That read rotated the session already, to a token that can be sent.
    const session = app.runtime.tokens.slot('default', 'acquirer').current()?.value;
    expect(session).toBe(app.sandbox.simulators.merchant.issuedSessions()[1]?.token);
    app.sandbox.clearCalls();
    for (const rotated of ['rotated\tcanary', `canary-${'r'.repeat(9000)}`]) {
      app.sandbox.simulators.merchant.rotateWith(rotated);
      expect((await app.query(ACQUIRER)).errors).toBeUndefined();
      expect(app.runtime.tokens.slot('default', 'acquirer').current()?.value).toBe(session);
      expect((await app.query(ACQUIRER)).errors).toBeUndefined();
    }
    expect(loginCalls(app.sandbox, 'merchant')).toHaveLength(0);
    const sent = balanceCalls(app.sandbox, 'merchant').map((call) => call.headers.authorization);
    expect(sent).toHaveLength(4);
    expect(new Set(sent)).toEqual(new Set([`Bearer ${session}`]));
    // A rotation that can be sent is adopted as before.
    app.sandbox.simulators.merchant.rotateWith(undefined);
    await app.query(ACQUIRER);
    expect(app.runtime.tokens.slot('default', 'acquirer').current()?.value).not.toBe(session);
  });
});

describe('the session layer', () => {
  it('drops a session whose call the transport refused to send, so the next read logs in again', async () => {
    const server = createServer((_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dispatcher = new Agent();
    try {
      const http = createUpstreamHttp({
        providerId: 'p1',
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        dispatcher,
        timeoutMs: 1000,
      });
      const slot = new TokenCacheByTenantAndProvider().slot('t', 'p1');
      let logins = 0;
      const login = async () => {
        logins += 1;
        return { value: `token-${logins}`, expiresAt: Date.now() + 3_600_000 };
      };
      // A header undici will not send (a line break), carried along with the session's token.
      const refused = (token: string) =>
        http.send({
          method: 'GET',
          path: '/x',
          headers: { authorization: `Bearer ${token}`, 'x-note': 'a\nb' },
          route: 'x',
        });
      const error = await callWithSessionToken(slot, login, refused, 'p1').catch(
        (caught: unknown) => caught,
      );
      expect(error).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
      expect((error as Error).message).toBe(
        'p1: the session token could not be sent (the HTTP client refused the request headers); the session is dropped and the next read logs in again',
      );
      expect(slot.current()).toBeUndefined();
      const ok = await callWithSessionToken(
        slot,
        login,
        (token) =>
          http.send({
            method: 'GET',
            path: '/x',
            headers: { authorization: `Bearer ${token}` },
            route: 'x',
          }),
        'p1',
      );
      expect(ok.status).toBe(200);
      expect(logins).toBe(2);
    } finally {
      await dispatcher.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('checks every token before it keeps it: logins and rotations alike, against its bound', async () => {
    const slot = new TokenCacheByTenantAndProvider().slot('t', 'p1');
    slot.setMaxTokenBytes(64);
    const later = Date.now() + 3_600_000;
    for (const [value, received] of [
      ['a b', 'a space'],
      ['a\tb', 'a control character'],
      ['a\u0000b', 'a control character'],
      ['a\u007fb', 'a control character'],
      ['caf\u00e9', 'a character outside ASCII'],
    ] as const) {
      await expect(slot.get(async () => ({ value, expiresAt: later }))).rejects.toThrow(
        `p1: the login returned a token that cannot be sent in a header (expected visible ASCII characters only, received ${received})`,
      );
      expect(slot.current()).toBeUndefined();
    }
    await expect(
      slot.get(async () => ({ value: 'x'.repeat(65), expiresAt: later })),
    ).rejects.toThrow(
      'p1: the login returned a token longer than maxTokenBytes (64) bytes (received 65 bytes)',
    );
    await expect(slot.get(async () => ({ value: '', expiresAt: later }))).rejects.toThrow(
      'p1: the login returned an empty token',
    );
    const { token } = await slot.get(async () => ({ value: 'x'.repeat(64), expiresAt: later }));
    expect(slot.rotate(token.value, { value: 'bad\ttoken', expiresAt: later })).toBe(false);
    expect(slot.rotate(token.value, { value: 'y'.repeat(65), expiresAt: later })).toBe(false);
    expect(slot.current()?.value).toBe(token.value);
    expect(slot.rotate(token.value, { value: 'good-token', expiresAt: later })).toBe(true);
    expect(slot.current()?.value).toBe('good-token');
  });
});
