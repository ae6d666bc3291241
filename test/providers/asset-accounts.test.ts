import { decodeJwt } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import { createOtpSource, loginToAssetAccounts } from '../../src/providers/asset-accounts/auth.js';
import { fetchAssetAccountBalances } from '../../src/providers/asset-accounts/client.js';
import { createAssetAccountsAdapter } from '../../src/providers/asset-accounts/index.js';
import { normalizeAssetAccountBalances } from '../../src/providers/asset-accounts/normalize.js';
import {
  type AssetAccountsSimulator,
  type AssetAccountsSimulatorOptions,
  createAssetAccountsSimulator,
} from '../../src/providers/asset-accounts/sandbox.js';
import { createMovableClock, type MovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import { json, jsonNumber, type Simulator } from '../../src/sandbox/simulator.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { TokenCacheByTenantAndProvider, type TokenSlot } from '../../src/upstream/token-cache.js';
import { type StandaloneAdapter, standalone } from '../helpers/adapter.js';
import { loadFixture, plainAccounts } from '../helpers/fixtures.js';
import {
  type CannedAnswer,
  type CannedUpstream,
  type ExpectedFailure,
  mappedFailure,
  providerConfig,
  startCannedUpstream,
} from './canned-upstream.js';

const LOGIN_PATH = '/api/v1/public/auth/login';
const BALANCES_PATH = '/api/v1/customer/accounts/balances';

/** Canary credentials: no error message may ever contain them. */
const USERNAME = 'alice';
const PASSWORD = 'pw-CANARY-password-4242';
const OTP_SECRET = 'CANARYOTPSEED234567CANARYOTPSEED';

/** 10 s into a 30-second step, so a test's own moves never straddle a step by accident. */
const START = Date.UTC(2026, 0, 15, 12, 0, 10);

type Detail = AssetAccountsSimulatorOptions['customers'][number]['details'][number];

const DETAILS: Detail[] = [
  {
    id: 101,
    asset: 'USD',
    totalBalance: '1500.25',
    availableBalance: '1200.25',
    pendingBalance: '300',
  },
  {
    id: 102,
    asset: 'eur',
    totalBalance: '9007199254740993.01',
    availableBalance: '9007199254740993.01',
    pendingBalance: '0',
  },
  {
    id: 103,
    asset: 'ETH',
    totalBalance: '0.000000000000000001',
    availableBalance: '0',
    pendingBalance: '0.000000000000000001',
    bSuppressed: true,
  },
];

function manyDetails(count: number): Detail[] {
  return Array.from({ length: count }, (_, index) => ({
    id: 1000 + index,
    asset: `A${index}`,
    totalBalance: `${index}.5`,
    availableBalance: `${index}.5`,
    pendingBalance: '0',
  }));
}

/** The code an RFC 6238 authenticator shows for `secret` at `timestamp`, computed independently. */
function totpAt(secret: string, timestamp: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp,
  });
}

function first<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new Error('expected at least one item');
  return item;
}

interface World {
  clock: MovableClock;
  sim: AssetAccountsSimulator;
  server: SandboxServer;
  /** An adapter for the customer, with credentials and provider fields overridden as given. */
  adapter(options?: {
    credentials?: Partial<Record<'username' | 'password' | 'otpSecret', string>>;
    provider?: Record<string, unknown>;
    now?: () => number;
  }): { adapter: StandaloneAdapter; slot: TokenSlot };
  logins(): ReturnType<SandboxServer['calls']>;
  balanceCalls(): ReturnType<SandboxServer['calls']>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startWorld(
  options: {
    sim?: Partial<Omit<AssetAccountsSimulatorOptions, 'clock'>>;
    /** Replaces some of the simulator's answers. */
    wrap?: (sim: AssetAccountsSimulator) => Simulator;
    start?: number;
  } = {},
): Promise<World> {
  const start = options.start ?? START;
  const clock = createMovableClock(() => start);
  const sim = createAssetAccountsSimulator({
    customers: [
      { username: USERNAME, password: PASSWORD, otpSecret: OTP_SECRET, details: DETAILS },
    ],
    ...options.sim,
    clock,
  });
  const server = await startSandboxServer({
    simulators: [options.wrap ? options.wrap(sim) : sim],
    clock,
  });
  const agent = new Agent();
  cleanups.push(async () => {
    await agent.close();
    await server.close();
  });
  const calls = (path: string) =>
    server.calls('asset-accounts').filter((call) => call.path === path);
  return {
    clock,
    sim,
    server,
    adapter({ credentials = {}, provider = {}, now = clock.now } = {}) {
      const parsed = parseConfig(
        {
          providers: [
            {
              id: 'assets',
              kind: 'asset-accounts',
              baseUrl: server.baseUrl('asset-accounts'),
              credentials: {
                username: USERNAME,
                password: PASSWORD,
                otpSecret: OTP_SECRET,
                ...credentials,
              },
              ...provider,
            },
          ],
        },
        { source: 'test', env: {}, baseDir: process.cwd() },
      );
      const config = first(first(parsed.tenants).providers) as ProviderConfigOf<'asset-accounts'>;
      const slot = new TokenCacheByTenantAndProvider({ now }).slot('t', config.id);
      const adapter = createAssetAccountsAdapter({
        tenantId: 't',
        config,
        dispatcher: agent,
        tokens: slot,
        now,
      });
      return { adapter: standalone(adapter), slot };
    },
    logins: () => calls(LOGIN_PATH),
    balanceCalls: () => calls(BALANCES_PATH),
  };
}

function bearerOf(call: { headers: Record<string, unknown> }): string {
  const match = String(call.headers.authorization).match(/^Bearer (\S+)$/);
  if (!match?.[1]) throw new Error('expected a Bearer authorization header');
  return match[1];
}

async function failureOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof UpstreamError)) throw new Error(`expected an UpstreamError: ${error}`);
  return error;
}

describe('asset-accounts normalization (fixtures)', () => {
  for (const name of ['seed-example', 'precision']) {
    it(`normalizes ${name}`, () => {
      const fixture = loadFixture('asset-accounts', name);
      expect(plainAccounts(normalizeAssetAccountBalances(fixture.raw))).toEqual(fixture.expected);
    });
  }

  it('names the field and the type received when a detail breaks the contract', () => {
    const missing = parseLosslessJson(
      '{"id":0,"details":[{"id":1,"asset":"USD","availableBalance":1,"pendingBalance":0}]}',
    );
    expect(() => normalizeAssetAccountBalances(missing)).toThrow(
      'body.details[0].totalBalance: expected an amount, received nothing',
    );
    const notBoolean = parseLosslessJson(
      '{"id":0,"details":[{"id":1,"asset":"USD","totalBalance":1,"availableBalance":1,"pendingBalance":0,"bSuppressed":"yes"}]}',
    );
    expect(() => normalizeAssetAccountBalances(notBoolean)).toThrow(
      'body.details[0].bSuppressed: expected a boolean, received a string',
    );
    expect(() => normalizeAssetAccountBalances(parseLosslessJson('{"id":0}'))).toThrow(
      'body.details: expected an array, received nothing',
    );
    expect(() => normalizeAssetAccountBalances(parseLosslessJson('[]'))).toThrow(
      'body: expected an object, received an array',
    );
  });

  it('refuses a number outside the bounds of an amount by its path, without expanding it', () => {
    const body = parseLosslessJson(
      '{"id":0,"details":[{"id":1,"asset":"USD","totalBalance":1e9000000,"availableBalance":1,"pendingBalance":0}]}',
    );
    expect(() => normalizeAssetAccountBalances(body)).toThrow(
      'body.details[0].totalBalance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});

describe('asset-accounts login and one-time passwords', () => {
  it('logs in with username, password and the RFC 6238 SHA-1 code of the clock time', async () => {
    // RFC 6238 appendix B: the ASCII seed "12345678901234567890" at T = 59 s gives ...287082.
    const rfcSecret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    const world = await startWorld({
      start: 59_000,
      sim: {
        customers: [
          { username: USERNAME, password: PASSWORD, otpSecret: rfcSecret, details: DETAILS },
        ],
      },
    });
    const { adapter } = world.adapter({ credentials: { otpSecret: rfcSecret } });
    await adapter.fetchAccounts({ currencies: null });
    const login = first(world.logins());
    expect(login.method).toBe('POST');
    expect(login.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(login.body)).toEqual({
      username: USERNAME,
      password: PASSWORD,
      otp: '287082',
    });
    expect(login.status).toBe(200);
  });

  it('sends a Bearer JWT and an otp header valid for the clock time on every balance call', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    world.clock.advance(30_000);
    await adapter.fetchAccounts({ currencies: null });

    expect(world.logins()).toHaveLength(1);
    const calls = world.balanceCalls();
    expect(calls.map((call) => call.status)).toEqual([200, 200]);
    const [early, late] = calls.map((call) => String(call.headers.otp));
    expect(early).toBe(totpAt(OTP_SECRET, START));
    // A fresh code per request, made at send time.
    expect(late).toBe(totpAt(OTP_SECRET, START + 30_000));
    expect(late).not.toBe(early);
    for (const call of calls) {
      expect(call.method).toBe('GET');
      expect(decodeJwt(bearerOf(call)).sub).toBe(USERNAME);
    }
  });

  it('reads the whole list unpaginated, with no query parameters, amounts exact', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter();
    const accounts = plainAccounts(await adapter.fetchAccounts({ currencies: null })) as {
      upstreamId: string;
      suppressed: boolean;
      balances: { currency: string; total: string; available: string; components: unknown }[];
    }[];
    expect(first(world.balanceCalls()).query).toEqual({});
    expect(
      accounts.map((account) => [
        account.upstreamId,
        account.suppressed,
        first(account.balances).currency,
        first(account.balances).total,
        first(account.balances).available,
        first(account.balances).components,
      ]),
    ).toEqual([
      ['101', false, 'USD', '1500.25', '1200.25', [{ kind: 'PENDING', amount: '300' }]],
      [
        '102',
        false,
        'EUR',
        '9007199254740993.01',
        '9007199254740993.01',
        [{ kind: 'PENDING', amount: '0' }],
      ],
      [
        '103',
        true,
        'ETH',
        '0.000000000000000001',
        '0',
        [{ kind: 'PENDING', amount: '0.000000000000000001' }],
      ],
    ]);
  });

  it('reports a wrong password as UPSTREAM_AUTH_FAILED after one login attempt', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter({ credentials: { password: 'not-the-password' } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.status).toBe(401);
    expect(world.logins().map((call) => call.status)).toEqual([401]);
    expect(world.balanceCalls()).toHaveLength(0);
  });

  it('reports codes from a wrong otpSecret as UPSTREAM_AUTH_FAILED', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter({ credentials: { otpSecret: 'JBSWY3DPEHPK3PXP' } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(world.logins().map((call) => call.status)).toEqual([401]);
  });

  it('is refused a stale code from a clock two minutes behind, but not one a step behind', async () => {
    const world = await startWorld();
    const stale = world.adapter({ now: () => world.clock.now() - 120_000 });
    const error = await failureOf(stale.adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    const staleLogin = first(world.logins());
    expect(JSON.parse(staleLogin.body).otp).toBe(totpAt(OTP_SECRET, START - 120_000));
    expect(staleLogin.status).toBe(401);

    // The provider accepts the neighbouring steps, so a clock 30 s behind still works.
    const behind = world.adapter({ now: () => world.clock.now() - 30_000 });
    await expect(behind.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(3);
  });

  it('fails a seed that is not base32 with UPSTREAM_AUTH_FAILED before calling anyone', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter({ credentials: { otpSecret: 'CANARY-not-base32-1890' } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.message).toBe('assets: credentials.otpSecret is not a base32 TOTP seed');
    expect(world.server.calls()).toHaveLength(0);
  });

  it('answers a malformed login body with UPSTREAM_BAD_RESPONSE', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === LOGIN_PATH ? json(200, { jwt: 'x' }) : sim.handle(request),
      }),
    });
    const error = await failureOf(world.adapter().adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe(
      "assets: the login broke the provider's contract: login body.token: expected a string, received nothing",
    );
  });
});

describe('asset-accounts configured paths', () => {
  it('uses paths.login and paths.balances instead of the defaults', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) => {
          const moved: Record<string, string> = {
            '/v9/login': LOGIN_PATH,
            '/v9/balances': BALANCES_PATH,
          };
          const path = moved[request.path];
          return path === undefined
            ? json(404, { message: 'not found' })
            : sim.handle({ ...request, path });
        },
      }),
    });
    const { adapter } = world.adapter({
      provider: { paths: { login: '/v9/login', balances: '/v9/balances' } },
    });
    await expect(adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(3);
    expect(world.server.calls('asset-accounts').map((call) => [call.path, call.status])).toEqual([
      ['/v9/login', 200],
      ['/v9/balances', 200],
    ]);
  });
});

describe('asset-accounts token life', () => {
  it('keeps the token while its JWT exp is far and logs in again once past exp minus the margin', async () => {
    const world = await startWorld({ sim: { tokenTtlSeconds: 3600 } });
    const { adapter, slot } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    const token = bearerOf(first(world.balanceCalls()));
    const exp = decodeJwt(token).exp;
    expect(exp).toBe(Math.floor(START / 1000) + 3600);
    const expMs = (exp ?? 0) * 1000;
    // The session ends 30 s before exp, for skew between our clock and the provider's.
    expect(slot.current()?.expiresAt).toBe(expMs - 30_000);

    world.clock.advance(expMs - 5 * 60_000 - world.clock.now());
    await adapter.fetchAccounts({ currencies: null });
    expect(world.logins()).toHaveLength(1);

    world.clock.advance(expMs - 30_000 - world.clock.now());
    await adapter.fetchAccounts({ currencies: null });
    expect(world.logins()).toHaveLength(2);
    // Renewed before the provider had to refuse anything.
    expect(world.balanceCalls().map((call) => call.status)).toEqual([200, 200, 200]);
    expect(bearerOf(first(world.balanceCalls().slice(2)))).not.toBe(token);
  });

  it('gives a short-lived token at most half its remaining life as skew margin', async () => {
    const world = await startWorld({ sim: { tokenTtlSeconds: 40 } });
    const { adapter, slot } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    const expMs = (decodeJwt(bearerOf(first(world.balanceCalls()))).exp ?? 0) * 1000;
    expect(slot.current()?.expiresAt).toBe(expMs - (expMs - START) / 2);
    world.clock.advance(10_000);
    await adapter.fetchAccounts({ currencies: null });
    expect(world.logins()).toHaveLength(1);
  });

  it('treats a token without exp as short-lived and renews it within a minute', async () => {
    const world = await startWorld({ sim: { tokensWithoutExp: true, tokenTtlSeconds: 3600 } });
    const { adapter } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    expect(decodeJwt(bearerOf(first(world.balanceCalls()))).exp).toBeUndefined();

    world.clock.advance(30_000);
    await adapter.fetchAccounts({ currencies: null });
    expect(world.logins()).toHaveLength(1);

    world.clock.advance(31_000);
    await adapter.fetchAccounts({ currencies: null });
    expect(world.logins()).toHaveLength(2);
  });

  it('re-logs in exactly once when the provider says the token expired, and the read succeeds', async () => {
    // The provider ends tokens after 20 s without saying so; the adapter assumes 60 s.
    const world = await startWorld({ sim: { tokensWithoutExp: true, tokenTtlSeconds: 20 } });
    const { adapter } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    world.clock.advance(25_000);
    await expect(adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(3);
    expect(world.logins().map((call) => call.status)).toEqual([200, 200]);
    expect(world.balanceCalls().map((call) => call.status)).toEqual([200, 401, 200]);
  });

  it('re-logs in exactly once after the provider revoked the token, and the read succeeds', async () => {
    const world = await startWorld();
    const { adapter } = world.adapter();
    await adapter.fetchAccounts({ currencies: null });
    world.sim.revokeTokens();
    await expect(adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(3);
    expect(world.logins()).toHaveLength(2);
    expect(world.balanceCalls().map((call) => call.status)).toEqual([200, 401, 200]);
  });

  it('gives up with UPSTREAM_AUTH_FAILED when the new token is refused too, never a third login', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === BALANCES_PATH
            ? json(401, { message: 'missing, stale or wrong otp' })
            : sim.handle(request),
      }),
    });
    const { adapter } = world.adapter();
    // A token just obtained and refused is not retried with another.
    expect((await failureOf(adapter.fetchAccounts({ currencies: null }))).code).toBe(
      'UPSTREAM_AUTH_FAILED',
    );
    expect(world.logins()).toHaveLength(1);
    world.server.clearCalls();
    // A cached token refused: one re-login, one retry, then the failure.
    world.clock.advance(1000);
    await expect(adapter.fetchAccounts({ currencies: null })).rejects.toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
    });
    expect(world.logins()).toHaveLength(1);
    expect(world.balanceCalls().map((call) => call.status)).toEqual([401, 401]);
  });

  it('shares one login among 20 concurrent cold reads', async () => {
    const world = await startWorld();
    const { adapter, slot } = world.adapter();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => adapter.fetchAccounts({ currencies: null })),
    );
    expect(results.every((accounts) => accounts.length === 3)).toBe(true);
    expect(world.logins()).toHaveLength(1);
    expect(slot.logins).toBe(1);
    expect(world.balanceCalls()).toHaveLength(20);
  });
});

describe('asset-accounts pagination', () => {
  it('requests pages 1..k with pageSize until a short page and returns every detail in order', async () => {
    const world = await startWorld({
      sim: {
        customers: [
          {
            username: USERNAME,
            password: PASSWORD,
            otpSecret: OTP_SECRET,
            details: manyDetails(7),
          },
        ],
      },
    });
    const { adapter } = world.adapter({ provider: { pageSize: 3 } });
    const accounts = await adapter.fetchAccounts({ currencies: null });
    expect(accounts.map((account) => account.upstreamId)).toEqual(
      manyDetails(7).map((detail) => String(detail.id)),
    );
    expect(world.balanceCalls().map((call) => call.query)).toEqual([
      { pageNumber: '1', pageSize: '3' },
      { pageNumber: '2', pageSize: '3' },
      { pageNumber: '3', pageSize: '3' },
    ]);
    // Each page has its own fresh code and the same token.
    for (const call of world.balanceCalls()) {
      expect(call.headers.otp).toBe(totpAt(OTP_SECRET, START));
      expect(call.headers.authorization).toMatch(/^Bearer /);
    }
  });

  it('asks for one more page when the list fills its last page exactly', async () => {
    const world = await startWorld({
      sim: {
        customers: [
          {
            username: USERNAME,
            password: PASSWORD,
            otpSecret: OTP_SECRET,
            details: manyDetails(6),
          },
        ],
      },
    });
    const { adapter } = world.adapter({ provider: { pageSize: 3 } });
    await expect(adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(6);
    expect(world.balanceCalls().map((call) => call.query.pageNumber)).toEqual(['1', '2', '3']);
  });

  it('simulator: answers bad or lone page parameters with 400 and a message', async () => {
    const world = await startWorld();
    const base = world.server.baseUrl('asset-accounts');
    const login = await request(`${base}${LOGIN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        username: USERNAME,
        password: PASSWORD,
        otp: totpAt(OTP_SECRET, START),
      }),
    });
    expect(login.statusCode).toBe(200);
    const { token } = (await login.body.json()) as { token: string };
    const get = async (query: string) => {
      const response = await request(`${base}${BALANCES_PATH}${query}`, {
        headers: { authorization: `Bearer ${token}`, otp: totpAt(OTP_SECRET, START) },
      });
      return { status: response.statusCode, body: (await response.body.json()) as unknown };
    };
    for (const query of [
      '?pageNumber=1',
      '?pageSize=2',
      '?pageNumber=0&pageSize=2',
      '?pageNumber=1&pageSize=-2',
      '?pageNumber=a&pageSize=2',
      '?pageNumber=1.5&pageSize=2',
    ]) {
      const answer = await get(query);
      expect({ query, status: answer.status }).toEqual({ query, status: 400 });
      expect(answer.body).toEqual({ message: expect.any(String) });
    }
    const page = await get('?pageNumber=2&pageSize=2');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ id: 0, details: [{ id: 103, bSuppressed: true }] });
    // Without an otp header the token alone is not enough.
    const noOtp = await request(`${base}${BALANCES_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(noOtp.statusCode).toBe(401);
    expect(await noOtp.body.json()).toEqual({ message: expect.any(String) });
  });

  it('maps a 400 to UPSTREAM_BAD_RESPONSE without repeating the provider body', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === BALANCES_PATH
            ? json(400, { message: 'pageSize too large BODY-TEXT' })
            : sim.handle(request),
      }),
    });
    const { adapter } = world.adapter({ provider: { pageSize: 500 } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe(
      'assets: the provider rejected the query parameters of page 1 of the balances (HTTP 400)',
    );
    expect(world.logins()).toHaveLength(1);
  });

  it('names the page and the field when a later page breaks the contract', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) => {
          if (request.path !== BALANCES_PATH) return sim.handle(request);
          const details =
            request.query.get('pageNumber') === '1'
              ? [wireDetail(first(DETAILS))]
              : [{ id: 2, asset: 'USD', totalBalance: 1, availableBalance: 1 }];
          return json(200, { id: 0, details });
        },
      }),
    });
    const { adapter } = world.adapter({ provider: { pageSize: 1 } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe(
      "assets: page 2 of the balances broke the provider's contract: body.details[0].pendingBalance: expected an amount, received nothing",
    );
  });

  it('gives up after 1000 full pages rather than reading forever', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === BALANCES_PATH
            ? json(200, { id: 0, details: [first(DETAILS)].map(wireDetail) })
            : sim.handle(request),
      }),
    });
    const { adapter } = world.adapter({ provider: { pageSize: 1 } });
    const error = await failureOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe('assets: the balances did not end within 1000 pages of 1');
    expect(world.balanceCalls()).toHaveLength(1000);
  });

  it('maps a 5xx to UPSTREAM_UNAVAILABLE', async () => {
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === BALANCES_PATH ? json(503, { message: 'down' }) : sim.handle(request),
      }),
    });
    const error = await failureOf(world.adapter().adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error.status).toBe(503);
  });
});

describe('asset-accounts secrets', () => {
  it('never puts the password or the OTP seed in an error message', async () => {
    const errors: UpstreamError[] = [];
    const world = await startWorld({
      wrap: (sim) => ({
        kind: sim.kind,
        handle: (request) =>
          request.path === BALANCES_PATH && request.query.has('pageNumber')
            ? json(400, { message: `rejected ${PASSWORD} ${OTP_SECRET}` })
            : sim.handle(request),
      }),
    });
    const attempts = [
      world.adapter({ credentials: { otpSecret: 'JBSWY3DPEHPK3PXP' } }),
      world.adapter({ credentials: { password: `${PASSWORD}-wrong` } }),
      world.adapter({ credentials: { otpSecret: `${OTP_SECRET}1` } }),
      world.adapter({ now: () => world.clock.now() - 120_000 }),
      world.adapter({ provider: { pageSize: 2 } }),
    ];
    for (const { adapter } of attempts) {
      errors.push(await failureOf(adapter.fetchAccounts({ currencies: null })));
    }
    expect(errors).toHaveLength(attempts.length);
    for (const error of errors) {
      const text = `${error.message} ${String(error.cause ?? '')} ${JSON.stringify(error)}`;
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(OTP_SECRET);
      expect(text).not.toContain('CANARY');
    }
  });
});

/** A detail as the provider writes it, for simulators built in a test. */
function wireDetail(detail: Detail): Record<string, unknown> {
  return {
    id: jsonNumber(detail.id),
    asset: detail.asset,
    totalBalance: jsonNumber(detail.totalBalance),
    availableBalance: jsonNumber(detail.availableBalance),
    pendingBalance: jsonNumber(detail.pendingBalance),
    bSuppressed: detail.bSuppressed ?? false,
  };
}

describe('the one-time code source', () => {
  it('reads the clock once per code: at a step boundary the code belongs to the step it is cached under', () => {
    // The clock moves on between two readings, from the end of one step into the next.
    const readings = [29_999, 30_001, 30_002];
    const now = () => readings.shift() ?? 30_003;
    const config = {
      id: 'ops',
      credentials: { otpSecret: OTP_SECRET },
    } as unknown as ProviderConfigOf<'asset-accounts'>;
    const code = createOtpSource(config, now)();
    const secret = Secret.fromBase32(OTP_SECRET);
    expect(code).toBe(
      new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }).generate({
        timestamp: 29_999,
      }),
    );
  });
});

describe('asset-accounts error table: each answer maps as PROVIDERS.md says', () => {
  let upstream: CannedUpstream;
  let config: ProviderConfigOf<'asset-accounts'>;
  let paged: ProviderConfigOf<'asset-accounts'>;
  const otp = () => '123456';
  beforeAll(async () => {
    upstream = await startCannedUpstream('assets-1');
    const fields = {
      id: 'assets-1',
      baseUrl: upstream.baseUrl,
      credentials: { username: USERNAME, password: PASSWORD, otpSecret: OTP_SECRET },
    };
    config = providerConfig('asset-accounts', fields);
    paged = providerConfig('asset-accounts', { ...fields, pageSize: 2 });
  });
  afterAll(async () => {
    await upstream.close();
  });

  /** A balances answer, unpaginated and (`page` names what a page read says) paginated. */
  const reads: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: 'HTTP 401 (expired token or a refused otp) rejects the token: one re-login',
      answer: { status: 401, body: '{"message":"otp expired"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        tokenRejected: true,
        message: 'assets-1: the provider rejected the access token or the one-time password',
      },
    },
    {
      name: 'HTTP 400 is a refused query',
      answer: { status: 400, body: '{"message":"bad pageSize"}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 400,
        message: 'assets-1: the provider rejected the query parameters of the balances (HTTP 400)',
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{}', headers: { 'retry-after': '8' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 8,
        message: 'assets-1: the balances was rate limited (HTTP 429); retry after 8 s',
      },
    },
    {
      name: 'HTTP 502 is unavailable',
      answer: { status: 502, body: '<html>bad gateway</html>' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 502,
        message: 'assets-1: the balances failed upstream (HTTP 502)',
      },
    },
    {
      name: 'HTTP 404 is an answer the contract does not define',
      answer: { status: 404, body: '{}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 404,
        message:
          "assets-1: the balances answered HTTP 404, which the provider's contract does not define",
      },
    },
    {
      name: 'HTTP 200 whose body is not JSON breaks the contract',
      answer: { status: 200, body: '{"id":0,' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "assets-1: the balances broke the provider's contract: the body is not valid JSON (a quoted key was expected, at position 8)",
      },
    },
    {
      name: 'HTTP 200 without details breaks the contract',
      answer: { status: 200, body: '{"id":0}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "assets-1: the balances broke the provider's contract: body.details: expected an array, received nothing",
      },
    },
  ];

  for (const { name, answer, expected } of reads) {
    it(`balances: ${name}`, async () => {
      upstream.answer(answer);
      expect(
        await mappedFailure(fetchAssetAccountBalances(upstream.http, config, 'token', otp)),
      ).toEqual(expected);
      expect(
        await mappedFailure(fetchAssetAccountBalances(upstream.http, paged, 'token', otp)),
      ).toEqual({
        ...expected,
        message: expected.message.replace('the balances', 'page 1 of the balances'),
      });
    });
  }

  it('balances: HTTP 200 is the answer', async () => {
    upstream.answer({
      status: 200,
      body: '{"id":0,"details":[{"id":7,"asset":"USD","totalBalance":3,"availableBalance":2,"pendingBalance":1}]}',
    });
    const accounts = await fetchAssetAccountBalances(upstream.http, config, 'token', otp);
    expect(accounts.map((account) => account.upstreamId)).toEqual(['7']);
  });

  const logins: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: 'HTTP 401 rejects the credentials or the code, for good',
      answer: { status: 401, body: '{"message":"invalid credentials"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message:
          'assets-1: the provider rejected the login (invalid username, password or one-time password)',
      },
    },
    {
      name: 'HTTP 503 is unavailable',
      answer: { status: 503, body: '{}' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 503,
        message: 'assets-1: the login failed upstream (HTTP 503)',
      },
    },
    {
      name: 'HTTP 400 is an answer the contract does not define',
      answer: { status: 400, body: '{}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 400,
        message:
          "assets-1: the login answered HTTP 400, which the provider's contract does not define",
      },
    },
    {
      name: 'an empty token breaks the contract',
      answer: { status: 200, body: '{"token":""}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "assets-1: the login broke the provider's contract: login body.token: expected a token, received an empty string",
      },
    },
  ];

  for (const { name, answer, expected } of logins) {
    it(`login: ${name}`, async () => {
      upstream.answer(answer);
      const before = upstream.requests();
      const login = loginToAssetAccounts(upstream.http, config, otp, () => START);
      expect(await mappedFailure(login)).toEqual(expected);
      expect(upstream.requests() - before).toBe(1);
    });
  }

  it('login: HTTP 200 gives the token, living by its JWT exp', async () => {
    const exp = Math.floor(START / 1000) + 3600;
    const payload = Buffer.from(JSON.stringify({ exp })).toString('base64url');
    const jwt = `eyJhbGciOiJub25lIn0.${payload}.`;
    upstream.answer({ status: 200, body: JSON.stringify({ token: jwt }) });
    await expect(loginToAssetAccounts(upstream.http, config, otp, () => START)).resolves.toEqual({
      value: jwt,
      expiresAt: exp * 1000 - 30_000,
    });
  });
});
