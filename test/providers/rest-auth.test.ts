import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LEDGERLY_DEMO_CREDENTIALS, ledgerlyRestProvider } from '../../src/providers/rest/demo.js';
import { type LedgerlySimulator, restSandbox } from '../../src/providers/rest/sandbox.js';
import { createMovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import { deadlineReached, ReadStop } from '../../src/upstream/deadline.js';
import { mappedFailure } from './canned-upstream.js';
import {
  ITEMS_MAPPING,
  items,
  type RestUpstream,
  restAdapter,
  startRestUpstream,
} from './rest-server.js';

/**
 * Each auth mode of the rest kind against a real server: what every call carries for the static
 * modes, and for the session modes the login request, where the token is read, how long it
 * lives (renewed before its end), how it is sent, rotation, and one re-login on a rejection.
 */

let upstream: RestUpstream;
beforeAll(async () => {
  upstream = await startRestUpstream();
  upstream.route('GET /v1/accounts', () => ({ body: items('a-1') }));
});
afterAll(() => upstream.close());

const CREDENTIALS = { user: 'u-1', pass: 'p:ss word', token: 'static-token-1', key: 'api-key-1' };

function provider(auth: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    baseUrl: upstream.baseUrl,
    credentials: CREDENTIALS,
    auth,
    mapping: ITEMS_MAPPING,
    ...extra,
  };
}

/** The last balance request the upstream received. */
function lastRead() {
  const reads = upstream.requests('/v1/accounts');
  return reads[reads.length - 1];
}

describe('static auth', () => {
  it('none sends no credentials', async () => {
    const { adapter } = restAdapter(provider({ type: 'none' }));
    expect(await adapter.fetchAccounts({ currencies: null })).toHaveLength(1);
    expect(lastRead()?.headers.authorization).toBeUndefined();
  });

  it('basic sends user:password in Basic', async () => {
    const { adapter } = restAdapter(
      provider({ type: 'basic', username: '{credentials.user}', password: '{credentials.pass}' }),
    );
    await adapter.fetchAccounts({ currencies: null });
    expect(lastRead()?.headers.authorization).toBe(
      `Basic ${Buffer.from('u-1:p:ss word').toString('base64')}`,
    );
  });

  it('bearer sends the static token', async () => {
    const { adapter } = restAdapter(provider({ type: 'bearer', token: '{credentials.token}' }));
    await adapter.fetchAccounts({ currencies: null });
    expect(lastRead()?.headers.authorization).toBe('Bearer static-token-1');
  });

  it('apiKey in a header and in the query', async () => {
    const header = restAdapter(
      provider({ type: 'apiKey', name: 'X-Api-Key', value: 'K {credentials.key}' }),
    );
    await header.adapter.fetchAccounts({ currencies: null });
    expect(lastRead()?.headers['x-api-key']).toBe('K api-key-1');
    const query = restAdapter(
      provider({ type: 'apiKey', in: 'query', name: 'api_key', value: '{credentials.key}' }),
    );
    await query.adapter.fetchAccounts({ currencies: null });
    expect(lastRead()?.query.get('api_key')).toBe('api-key-1');
    expect(lastRead()?.headers['x-api-key']).toBeUndefined();
  });

  it('fills templates in the request headers and query, braces doubled as literals', async () => {
    const { adapter } = restAdapter(
      provider(
        { type: 'apiKey', name: 'X-Api-Key', value: '{{literal}} {credentials.key}' },
        {
          request: {
            headers: { 'X-User': 'user={credentials.user}' },
            query: { view: 'full', sig: '{credentials.token}' },
          },
        },
      ),
    );
    await adapter.fetchAccounts({ currencies: null });
    expect(lastRead()?.headers['x-api-key']).toBe('{literal} api-key-1');
    expect(lastRead()?.headers['x-user']).toBe('user=u-1');
    expect(lastRead()?.url).toBe('/v1/accounts?view=full&sig=static-token-1');
  });

  it('a 401 with static credentials is final: no second call', async () => {
    upstream.route('GET /v1/static-401', () => ({ status: 401, body: {} }));
    const { adapter } = restAdapter(
      provider(
        { type: 'bearer', token: '{credentials.token}' },
        { paths: { balances: '/v1/static-401' } },
      ),
    );
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      retryable: false,
      message: 'bank: the provider rejected the credentials (HTTP 401)',
      status: 401,
    });
    expect(upstream.requests('/v1/static-401')).toHaveLength(1);
  });
});

describe('login', () => {
  let issued = 0;
  /** `/login` answers a fresh token each time; `/v1/session` wants the latest one. */
  function serveLogin(answer: (token: string) => Record<string, unknown>) {
    upstream.route('POST /login', () => {
      issued += 1;
      return { body: answer(`tok-${issued}`) };
    });
    upstream.route('GET /v1/session', (request) =>
      request.headers['x-session'] === `S tok-${issued}` ||
      request.query.get('session') === `tok-${issued}`
        ? { body: items('s-1') }
        : { status: 401, body: { message: 'expired' } },
    );
  }
  const login = (extra: Record<string, unknown>) =>
    provider(
      {
        type: 'login',
        body: { user: '{credentials.user}', password: '{credentials.pass}', fixed: 1 },
        token: '/data/token',
        send: { header: 'X-Session', value: 'S {token}' },
        ...extra,
      },
      { paths: { login: '/login', balances: '/v1/session' } },
    );

  afterEach(() => {
    issued = 0;
  });

  it('posts the JSON body template, reads the token at its pointer, sends it, and keeps it while it lives', async () => {
    serveLogin((token) => ({ data: { token, ttl: 600 } }));
    const { adapter, clock } = restAdapter(login({ lifetime: { secondsAt: '/data/ttl' } }));
    const before = upstream.requests('/login').length;
    await adapter.fetchAccounts({ currencies: null });
    await adapter.fetchAccounts({ currencies: null });
    const logins = upstream.requests('/login').slice(before);
    expect(logins).toHaveLength(1);
    expect(JSON.parse(logins[0]?.body ?? '')).toEqual({
      user: 'u-1',
      password: 'p:ss word',
      fixed: 1,
    });
    expect(logins[0]?.headers['content-type']).toBe('application/json');
    // Renewed before its end: 60 s before, at most 10% of its life (600 s).
    clock.advance(539_000);
    await adapter.fetchAccounts({ currencies: null });
    expect(upstream.requests('/login').length - before).toBe(1);
    clock.advance(2_000);
    await adapter.fetchAccounts({ currencies: null });
    expect(upstream.requests('/login').length - before).toBe(2);
  });

  it('logs in once for concurrent reads (single flight)', async () => {
    serveLogin((token) => ({ data: { token } }));
    const { adapter } = restAdapter(login({ lifetime: { seconds: 300 } }));
    const reads = await Promise.all(
      Array.from({ length: 5 }, () => adapter.fetchAccounts({ currencies: null })),
    );
    expect(reads.map((accounts) => accounts.length)).toEqual([1, 1, 1, 1, 1]);
    expect(issued).toBe(1);
  });

  it('reads the lifetime from an absolute time, from the JWT exp, or a fixed value', async () => {
    const clock = createMovableClock();
    const at = (seconds: number) => new Date(clock.now() + seconds * 1000).toISOString();
    serveLogin((token) => ({ data: { token, until: at(100) } }));
    const absolute = restAdapter(login({ lifetime: { expiresAt: '/data/until' } }), { clock });
    await absolute.adapter.fetchAccounts({ currencies: null });
    clock.advance(89_000);
    await absolute.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(1);
    clock.advance(2_000);
    await absolute.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(2);

    issued = 0;
    const jwt = async (token: string) =>
      `${await new SignJWT({ sub: token })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(clock.now() / 1000) + 300)
        .sign(new TextEncoder().encode('k'.repeat(32)))}`;
    const tokens = [await jwt('a'), await jwt('b')];
    upstream.route('POST /login', () => ({ body: { data: { token: tokens[issued++] } } }));
    upstream.route('GET /v1/session', (request) =>
      request.headers['x-session'] === `S ${tokens[issued - 1]}`
        ? { body: items('s-1') }
        : { status: 401, body: {} },
    );
    const fromJwt = restAdapter(login({ lifetime: { jwtExp: true } }), { clock });
    await fromJwt.adapter.fetchAccounts({ currencies: null });
    clock.advance(269_000);
    await fromJwt.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(1);
    clock.advance(2_000);
    await fromJwt.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(2);

    issued = 0;
    serveLogin((token) => ({ data: { token } }));
    const fixed = restAdapter(login({ lifetime: { seconds: 30 } }), { clock });
    await fixed.adapter.fetchAccounts({ currencies: null });
    clock.advance(26_000);
    await fixed.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(1);
    clock.advance(2_000);
    await fixed.adapter.fetchAccounts({ currencies: null });
    expect(issued).toBe(2);
  });

  it('sends the token as a query parameter, and a form body when told to', async () => {
    serveLogin((token) => ({ data: { token } }));
    const { adapter } = restAdapter(
      login({
        lifetime: { seconds: 300 },
        send: { query: 'session' },
        bodyFormat: 'form',
        body: { user: '{credentials.user}', password: '{credentials.pass}' },
      }),
    );
    const before = upstream.requests('/login').length;
    expect(await adapter.fetchAccounts({ currencies: null })).toHaveLength(1);
    const form = upstream.requests('/login')[before];
    expect(form?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(form?.body).toBe('user=u-1&password=p%3Ass+word');
    expect(lastReadOf('/v1/session')?.query.get('session')).toBe('tok-1');
  });

  it('logs in once more when a cached token is rejected, and once only', async () => {
    serveLogin((token) => ({ data: { token } }));
    const { adapter } = restAdapter(login({ lifetime: { seconds: 300 } }));
    await adapter.fetchAccounts({ currencies: null });
    // The upstream forgets the session: the next read logs in again and succeeds.
    issued += 1;
    expect(await adapter.fetchAccounts({ currencies: null })).toHaveLength(1);
    expect(issued).toBe(3);
    // An upstream that rejects every token: one re-login, then the error.
    upstream.route('GET /v1/session', () => ({ status: 401, body: {} }));
    const before = issued;
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'bank: the provider rejected the session after a new login; check the credentials',
    });
    expect(issued - before).toBe(1);
  });

  it('a rejected login is UPSTREAM_AUTH_FAILED, never retried; a missing token is a bad response', async () => {
    upstream.route('POST /login', () => ({ status: 401, body: { message: 'no' } }));
    const { adapter } = restAdapter(login({ lifetime: { seconds: 300 } }));
    const before = upstream.requests('/login').length;
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      retryable: false,
      message: 'bank: the provider rejected the login (HTTP 401); check the credentials',
      status: 401,
    });
    expect(upstream.requests('/login').length - before).toBe(1);
    upstream.route('POST /login', () => ({ body: { data: { token: 42 } } }));
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message:
        "bank: the login broke the provider's contract: login body.data.token: expected a token, received a number",
    });
  });

  it.each<[string, Record<string, unknown>, unknown, string]>([
    [
      'an absolute time already passed',
      { expiresAt: '/data/until' },
      { until: '2000-01-01T00:00:00Z' },
      'login body.data.until: expected a time in the future, received one passed',
    ],
    [
      'a time that is none',
      { expiresAt: '/data/until', format: 'unixSeconds' },
      { until: 'soon' },
      'login body.data.until: expected a time (unixSeconds), received a string',
    ],
    [
      'a token that is no JWT',
      { jwtExp: true },
      {},
      'login token: expected a JWT, received a token that is not one',
    ],
    [
      'seconds that are not positive',
      { secondsAt: '/data/ttl' },
      { ttl: 0 },
      'login body.data.ttl: expected a positive number of seconds',
    ],
  ])(
    'a lifetime that cannot be read is a bad login answer: %s',
    async (_name, lifetime, data, detail) => {
      serveLogin((token) => ({ data: { token, ...(data as object) } }));
      const { adapter } = restAdapter(login({ lifetime }));
      expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toMatchObject({
        code: 'UPSTREAM_BAD_RESPONSE',
        message: `bank: the login broke the provider's contract: ${detail}`,
      });
    },
  );

  it('adopts a token rotated in by a response header', async () => {
    serveLogin((token) => ({ data: { token } }));
    upstream.route('GET /v1/rotating', (request) => {
      const sent = request.headers['x-session'];
      if (sent === 'S rotated-1') return { body: items('r-1') };
      if (sent === `S tok-${issued}`) {
        return { body: items('r-1'), headers: { 'x-next-token': 'rotated-1' } };
      }
      return { status: 401, body: {} };
    });
    const { adapter } = restAdapter({
      ...login({ lifetime: { seconds: 300 }, rotateHeader: 'X-Next-Token' }),
      paths: { login: '/login', balances: '/v1/rotating' },
    });
    await adapter.fetchAccounts({ currencies: null });
    await adapter.fetchAccounts({ currencies: null });
    const sent = upstream.requests('/v1/rotating').map((request) => request.headers['x-session']);
    expect(sent.slice(-2)).toEqual(['S tok-1', 'S rotated-1']);
    expect(issued).toBe(1);
  });
});

function lastReadOf(path: string) {
  const reads = upstream.requests(path);
  return reads[reads.length - 1];
}

describe('OAuth2 client credentials, against the sandbox (Ledgerly)', () => {
  let sandbox: SandboxServer;
  let simulator: LedgerlySimulator;
  const clock = createMovableClock();
  beforeAll(async () => {
    simulator = restSandbox.createSimulator(restSandbox.demoData(), clock);
    sandbox = await startSandboxServer({ simulators: [simulator], clock });
  });
  afterAll(() => sandbox.close());

  it.each(['basic', 'body'] as const)(
    'logs in with the client %s, keeps the token until renewal, and reads every page',
    async (clientAuth) => {
      const demo = ledgerlyRestProvider(sandbox.baseUrl('rest'));
      const { adapter } = restAdapter(
        { ...demo, id: 'bank', auth: { ...(demo.auth as object), clientAuth } },
        { clock },
      );
      const before = simulator.issuedTokens().length;
      const accounts = await adapter.fetchAccounts({ currencies: null });
      expect(accounts.map((account) => account.upstreamId)).toEqual([
        'lg_acc_1001',
        'lg_acc_1002',
        'lg_acc_1003',
        'lg_acc_1004',
        'lg_acc_1005',
        'lg_acc_1006',
      ]);
      await adapter.fetchAccounts({ currencies: ['usd'] });
      const issued = simulator.issuedTokens().slice(before);
      expect(issued).toHaveLength(1);
      expect(issued[0]).toMatchObject({
        clientId: LEDGERLY_DEMO_CREDENTIALS.clientId,
        clientAuth,
        scope: 'balances:read',
      });
      // expires_in 3600: renewed 60 s before its end.
      clock.advance(3_541_000);
      await adapter.fetchAccounts({ currencies: null });
      expect(simulator.issuedTokens().length - before).toBe(2);
    },
  );

  it('a wrong client secret is UPSTREAM_AUTH_FAILED', async () => {
    const demo = ledgerlyRestProvider(sandbox.baseUrl('rest'));
    const { adapter } = restAdapter({
      ...demo,
      id: 'bank',
      credentials: { ...LEDGERLY_DEMO_CREDENTIALS, clientSecret: 'wrong-secret' },
    });
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      retryable: false,
      message: 'bank: the provider rejected the login (HTTP 401); check the credentials',
      status: 401,
    });
  });
});

describe('a token endpoint that never answers', () => {
  it('is UPSTREAM_TIMEOUT at the provider timeout, whether the read has a deadline or not', async () => {
    // The read's own stop, once it has one: fired when the token request has arrived, as its
    // deadline would fire while the endpoint keeps silent (no wait on the real clock).
    let stopOnArrival: ReadStop | undefined;
    const silent = createServer(() => stopOnArrival?.abort(deadlineReached()));
    const closed = new Promise<void>((resolve) => silent.on('close', resolve));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    const { adapter } = restAdapter({
      baseUrl: `http://127.0.0.1:${port}`,
      timeoutMs: 200,
      credentials: CREDENTIALS,
      auth: {
        type: 'oauth2ClientCredentials',
        clientId: '{credentials.user}',
        clientSecret: '{credentials.pass}',
      },
      mapping: ITEMS_MAPPING,
    });
    const expected = {
      code: 'UPSTREAM_TIMEOUT',
      retryable: true,
      message: 'bank: no answer within 200 ms',
    };
    expect(await mappedFailure(adapter.fetchAccounts({ currencies: null }))).toEqual(expected);
    const stop = new ReadStop();
    stopOnArrival = stop;
    const deadlineAt = performance.now() + 150;
    expect(
      await mappedFailure(adapter.fetchAccounts({ currencies: null, deadlineAt, signal: stop })),
    ).toEqual(expected);
    silent.closeAllConnections();
    silent.close();
    await closed;
  });
});

describe('an OAuth2 server of its own (tokenUrl)', () => {
  it('asks that server for the token and sends it to the API', async () => {
    const authServer = await startRestUpstream();
    try {
      authServer.route('POST /oauth/token', (request) =>
        request.headers.authorization ===
          `Basic ${Buffer.from('u-1:p%3Ass+word').toString('base64')}` &&
        request.body === 'grant_type=client_credentials'
          ? { body: { access_token: 'from-auth-server', token_type: 'Bearer', expires_in: 600 } }
          : { status: 401, body: { error: 'invalid_client' } },
      );
      upstream.route('GET /v1/oauth-api', (request) =>
        request.headers.authorization === 'Bearer from-auth-server'
          ? { body: items('o-1') }
          : { status: 401, body: {} },
      );
      const { adapter } = restAdapter(
        provider(
          {
            type: 'oauth2ClientCredentials',
            tokenUrl: `${authServer.baseUrl}/oauth/token`,
            clientId: '{credentials.user}',
            clientSecret: '{credentials.pass}',
          },
          { paths: { balances: '/v1/oauth-api' } },
        ),
      );
      expect(await adapter.fetchAccounts({ currencies: null })).toHaveLength(1);
      expect(authServer.requests('/oauth/token')).toHaveLength(1);
      expect(upstream.requests('/oauth2/token')).toHaveLength(0);
    } finally {
      await authServer.close();
    }
  });
});
