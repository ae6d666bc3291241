import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import { getMerchantSessionToken } from '../../src/providers/merchant/auth.js';
import { fetchMerchantBalances } from '../../src/providers/merchant/client.js';
import { createMerchantAdapter } from '../../src/providers/merchant/index.js';
import { normalizeMerchantBalances } from '../../src/providers/merchant/normalize.js';
import {
  createMerchantSimulator,
  type MerchantBalanceEntry,
  type MerchantSimulator,
  type MerchantSimulatorOptions,
} from '../../src/providers/merchant/sandbox.js';
import { createMovableClock, type MovableClock } from '../../src/sandbox/clock.js';
import {
  type RecordedCall,
  type SandboxServer,
  startSandboxServer,
} from '../../src/sandbox/server.js';
import type { SimRequest, SimResponse, Simulator } from '../../src/sandbox/simulator.js';
import { UpstreamError, UpstreamTokenRejectedError } from '../../src/upstream/errors.js';
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

const CLIENT_ID = 'merchant-partner-1';
/** A canary: this value must never show up in an error message. */
const CLIENT_SECRET = 'canary-secret-5f0c2e9a';
const SESSION_PATH = '/v2/auth/session';
const BALANCE_PATH = '/v2/account/balance';
const SESSION_TTL_MS = 1_800_000;
/** 100 s before the session's expiry: inside the provider's 2-minute rotation window, and before
 * the token cache's own renewal margin (60 s), so the cached token is still the one sent. */
const INTO_ROTATION_WINDOW_MS = SESSION_TTL_MS - 100_000;

const ENTRIES: MerchantBalanceEntry[] = [
  {
    Balance: '12386.00',
    ReservedAmount: '30.00',
    AvailableBalance: '12356.00',
    Currency: 'USD',
    Name: 'Account (USD)',
    Id: '417971020',
  },
  {
    Balance: '9007199254740993.01',
    ReservedAmount: '0.000000000000000001',
    AvailableBalance: '9007199254740993.009999999999999999',
    Currency: 'eur',
    Name: 'Treasury (EUR)',
    Id: '417971021',
  },
];

describe('merchant normalization (fixtures)', () => {
  for (const name of ['seed-example', 'precision']) {
    it(`normalizes ${name} exactly as the fixture expects`, () => {
      const fixture = loadFixture('merchant', name);
      expect(plainAccounts(normalizeMerchantBalances(fixture.raw))).toEqual(fixture.expected);
    });
  }

  it('names the field and the type received when an entry breaks the contract', () => {
    const entry = '"ReservedAmount":"0","Currency":"USD","Name":"A","Id":"1"';
    expect(() =>
      normalizeMerchantBalances(
        parseLosslessJson(
          `{"ResponseCode":200,"ResponseData":[{"Balance":"abc","AvailableBalance":"1",${entry}}]}`,
        ),
      ),
    ).toThrow(
      'body.ResponseData[0].Balance: expected an amount, received a string that is not a number',
    );
    expect(() =>
      normalizeMerchantBalances(
        parseLosslessJson(`{"ResponseCode":200,"ResponseData":[{"Balance":"1",${entry}}]}`),
      ),
    ).toThrow('body.ResponseData[0].AvailableBalance: expected an amount, received nothing');
    expect(() =>
      normalizeMerchantBalances(parseLosslessJson('{"ResponseCode":200,"ResponseData":{}}')),
    ).toThrow('body.ResponseData: expected an array, received an object');
    expect(() =>
      normalizeMerchantBalances(parseLosslessJson('{"ResponseCode":"200","ResponseData":[]}')),
    ).toThrow('body.ResponseCode: expected 200 in a successful answer');
  });

  it('refuses a number outside the bounds of an amount by its path, without expanding it', () => {
    const body = parseLosslessJson(
      '{"ResponseCode":200,"ResponseData":[{"Balance":"1","AvailableBalance":"1","ReservedAmount":1e9000000,"Currency":"USD","Name":"A","Id":"1"}]}',
    );
    expect(() => normalizeMerchantBalances(body)).toThrow(
      'body.ResponseData[0].ReservedAmount: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});

interface Harness {
  clock: MovableClock;
  sim: MerchantSimulator;
  server: SandboxServer;
  config: ProviderConfigOf<'merchant'>;
  tokens: TokenSlot;
  adapter: StandaloneAdapter;
  /** Another adapter on the same token slot whose calls leave from another client address. */
  adapterFromOtherAddress(): StandaloneAdapter;
  logins(): RecordedCall[];
  balanceReads(): RecordedCall[];
}

interface HarnessOptions {
  sim?: Partial<Omit<MerchantSimulatorOptions, 'clock'>>;
  clientSecret?: string;
  paths?: { session?: string; balances?: string };
  /** Puts a test's own behaviour in front of the simulator. */
  wrap?: (
    request: SimRequest,
    /** Hands the request (or a changed copy) on to the simulator. */
    next: (changed?: SimRequest) => SimResponse | Promise<SimResponse>,
  ) => SimResponse | Promise<SimResponse>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = createMovableClock();
  const sim = createMerchantSimulator({
    merchants: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, entries: ENTRIES }],
    clock,
    ...options.sim,
  });
  const { wrap } = options;
  const mounted: Simulator =
    wrap === undefined
      ? sim
      : {
          kind: 'merchant',
          handle: (simRequest) => wrap(simRequest, (changed) => sim.handle(changed ?? simRequest)),
        };
  const server = await startSandboxServer({ simulators: [mounted], clock });
  const config = merchantConfig(server.baseUrl('merchant'), options);
  const tokens = new TokenCacheByTenantAndProvider({ now: clock.now }).slot('t', config.id);
  const dispatchers: Agent[] = [];
  const adapterVia = (agent: Agent) => {
    dispatchers.push(agent);
    return standalone(
      createMerchantAdapter({
        tenantId: 't',
        config,
        dispatcher: agent,
        tokens,
        now: clock.now,
      }),
    );
  };
  cleanups.push(async () => {
    await Promise.all(dispatchers.map((agent) => agent.close()));
    await server.close();
  });
  const callsTo = (path: string) => () =>
    server.calls('merchant').filter((call) => call.path === path);
  return {
    clock,
    sim,
    server,
    config,
    tokens,
    adapter: adapterVia(new Agent()),
    adapterFromOtherAddress: () => adapterVia(new Agent({ localAddress: '127.0.0.2' })),
    logins: callsTo(paths(options).session),
    balanceReads: callsTo(paths(options).balances),
  };
}

function paths(options: HarnessOptions): { session: string; balances: string } {
  return {
    session: options.paths?.session ?? SESSION_PATH,
    balances: options.paths?.balances ?? BALANCE_PATH,
  };
}

function merchantConfig(baseUrl: string, options: HarnessOptions): ProviderConfigOf<'merchant'> {
  const app = parseConfig(
    {
      providers: [
        {
          id: 'merchant-1',
          kind: 'merchant',
          baseUrl,
          credentials: { clientId: CLIENT_ID, clientSecret: options.clientSecret ?? CLIENT_SECRET },
          ...(options.paths === undefined ? {} : { paths: options.paths }),
        },
      ],
    },
    { source: 'test', env: {}, baseDir: process.cwd() },
  );
  const provider = app.tenants[0]?.providers[0];
  if (provider?.kind !== 'merchant') throw new Error('expected the merchant provider');
  return provider;
}

/** The session token a recorded call sent. */
function bearerOf(call: RecordedCall | undefined): string | undefined {
  return call?.headers.authorization?.replace(/^Bearer /, '');
}

async function upstreamErrorOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof UpstreamError)) throw new Error('expected an UpstreamError');
  return error;
}

function tokensIssuedBy(sim: MerchantSimulator, via: 'login' | 'rotation'): string[] {
  return sim
    .issuedSessions()
    .filter((session) => session.via === via)
    .map((session) => session.token);
}

/** A balance read straight to the simulator with a chosen token, from 127.0.0.1. */
async function readWithToken(
  server: SandboxServer,
  token: string,
): Promise<{ status: number; responseCode: unknown }> {
  const response = await request(`${server.baseUrl('merchant')}${BALANCE_PATH}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await response.body.json()) as { ResponseCode?: unknown };
  return { status: response.statusCode, responseCode: body.ResponseCode };
}

describe('merchant adapter against the simulator', () => {
  it('logs in with {"ClientId","ClientSecret"} and reads with Authorization: Bearer <SessionToken>', async () => {
    const h = await startHarness();
    const accounts = await h.adapter.fetchAccounts({ currencies: null });

    const [login] = h.logins();
    expect(h.logins()).toHaveLength(1);
    expect(login?.method).toBe('POST');
    expect(login?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(login?.body ?? '')).toEqual({
      ClientId: CLIENT_ID,
      ClientSecret: CLIENT_SECRET,
    });
    const [read] = h.balanceReads();
    expect(read?.method).toBe('GET');
    expect(read?.headers.authorization).toBe(`Bearer ${tokensIssuedBy(h.sim, 'login')[0]}`);
    expect(h.tokens.current()?.expiresAt).toBeGreaterThanOrEqual(
      (read?.at ?? 0) + SESSION_TTL_MS - 5_000,
    );

    const plain = plainAccounts(accounts) as {
      upstreamId: string;
      balances: { currency: string; total: string; available: string; components: unknown }[];
    }[];
    expect(plain.map((account) => account.upstreamId)).toEqual(['417971020', '417971021']);
    expect(plain[1]?.balances[0]).toMatchObject({
      currency: 'EUR',
      total: '9007199254740993.01',
      available: '9007199254740993.009999999999999999',
      components: [{ kind: 'RESERVED', amount: '0.000000000000000001' }],
    });
  });

  it('sends the login and the read to paths.session and paths.balances when configured', async () => {
    const h = await startHarness({
      paths: { session: '/partner/session', balances: '/partner/balances' },
      wrap: (simRequest, next) => {
        // The deployment serves the same API under other paths.
        const moved: Record<string, string> = {
          '/partner/session': SESSION_PATH,
          '/partner/balances': BALANCE_PATH,
        };
        const path = moved[simRequest.path];
        if (path === undefined) return { status: 404, body: '{"ResponseCode":404}' };
        return next({ ...simRequest, path });
      },
    });
    await expect(h.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    expect(h.logins()).toHaveLength(1);
    expect(h.balanceReads()).toHaveLength(1);
  });

  it('a wrong ClientSecret gives UPSTREAM_AUTH_FAILED, as HTTP 401 or as ResponseCode 401 under HTTP 200, and the login is never retried', async () => {
    for (const authFailuresAsHttp200 of [false, true]) {
      const h = await startHarness({
        clientSecret: 'wrong-secret',
        sim: { authFailuresAsHttp200 },
      });
      const error = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
      expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.message).toBe(
        'merchant-1: the provider rejected the login (invalid ClientId or ClientSecret)',
      );
      expect(h.logins().map((call) => call.status)).toEqual([authFailuresAsHttp200 ? 200 : 401]);
      expect(h.balanceReads()).toHaveLength(0);
    }
  });

  it('login failures map by ResponseCode and are never retried', async () => {
    const cases = [
      {
        answer: { ResponseCode: 503, ResponseMessage: 'ServiceUnAvailable' },
        code: 'UPSTREAM_UNAVAILABLE',
      },
      { answer: { ResponseCode: 403, ResponseMessage: 'Forbidden' }, code: 'UPSTREAM_AUTH_FAILED' },
      {
        answer: { ResponseCode: 200, ResponseData: { ExpiresIn: 1800 } },
        code: 'UPSTREAM_BAD_RESPONSE',
      },
      { answer: { ResponseCode: 422 }, code: 'UPSTREAM_BAD_RESPONSE' },
    ] as const;
    for (const { answer, code } of cases) {
      const h = await startHarness({
        wrap: (simRequest, next) =>
          simRequest.path === SESSION_PATH ? { status: 200, body: JSON.stringify(answer) } : next(),
      });
      const error = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
      expect(error.code).toBe(code);
      expect(h.logins()).toHaveLength(1);
      expect(h.balanceReads()).toHaveLength(0);
    }
  });

  it('within 2 minutes of expiry adopts x-refresh-token for every later call, while the old token works until its own expiry', async () => {
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    const [sessionToken] = tokensIssuedBy(h.sim, 'login');
    expect(tokensIssuedBy(h.sim, 'rotation')).toEqual([]);

    h.clock.advance(INTO_ROTATION_WINDOW_MS);
    await h.adapter.fetchAccounts({ currencies: null });
    const rotated = tokensIssuedBy(h.sim, 'rotation');
    expect(rotated).toHaveLength(1);
    expect(bearerOf(h.balanceReads()[1])).toBe(sessionToken);

    await h.adapter.fetchAccounts({ currencies: null });
    await h.adapter.fetchAccounts({ currencies: null });
    expect(h.balanceReads().slice(2).map(bearerOf)).toEqual([rotated[0], rotated[0]]);
    // The new token has a full life, so it is not rotated again, and no login was needed.
    expect(tokensIssuedBy(h.sim, 'rotation')).toHaveLength(1);
    expect(h.logins()).toHaveLength(1);

    // The old token is still accepted until its own expiry...
    expect(await readWithToken(h.server, sessionToken ?? '')).toEqual({
      status: 200,
      responseCode: 200,
    });
    // ...and rejected after it, while the adapter reads on with the rotated token.
    h.clock.advance(101_000);
    expect(await readWithToken(h.server, sessionToken ?? '')).toEqual({
      status: 401,
      responseCode: 401,
    });
    await expect(h.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    expect(bearerOf(h.balanceReads().at(-1))).toBe(rotated[0]);
    expect(h.logins()).toHaveLength(1);
  });

  it('20 concurrent reads in the rotation window adopt one rotated token, never go back to the superseded one, and need one login', async () => {
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    const [sessionToken] = tokensIssuedBy(h.sim, 'login');
    h.clock.advance(INTO_ROTATION_WINDOW_MS);

    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.adapter.fetchAccounts({ currencies: null })),
    );
    expect(results.every((accounts) => accounts.length === 2)).toBe(true);
    // Every one of the 20 answers carried its own x-refresh-token; one of them is adopted.
    const rotated = tokensIssuedBy(h.sim, 'rotation');
    expect(rotated).toHaveLength(20);
    const adopted = h.tokens.current()?.value;
    expect(rotated).toContain(adopted);

    for (let i = 0; i < 5; i += 1) await h.adapter.fetchAccounts({ currencies: null });
    const used = h.balanceReads().map(bearerOf);
    const firstNew = used.findIndex((token) => token !== sessionToken);
    expect(firstNew).toBeGreaterThan(0);
    // Once the new token was sent, the superseded one never was again; nor any other rotation.
    expect(used.slice(firstNew)).toEqual(used.slice(firstNew).map(() => adopted));
    expect(used.slice(-5)).toEqual(Array(5).fill(adopted));
    expect(tokensIssuedBy(h.sim, 'rotation')).toHaveLength(20);

    // Past the old session's expiry the adapter still reads, on a token the simulator accepts.
    h.clock.advance(101_000);
    await expect(h.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    expect(h.balanceReads().at(-1)).toMatchObject({ status: 200 });
    expect(bearerOf(h.balanceReads().at(-1))).toBe(adopted);
    expect(h.logins()).toHaveLength(1);
    expect(h.tokens.logins).toBe(1);
  });

  it('a rotation answered late, after a newer rotation was adopted, never brings its older token back', async () => {
    let holdNextRotation = false;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const h = await startHarness({
      wrap: async (_simRequest, next) => {
        const response = await next();
        if (holdNextRotation && response.headers?.['x-refresh-token'] !== undefined) {
          holdNextRotation = false;
          await released;
        }
        return response;
      },
    });
    await h.adapter.fetchAccounts({ currencies: null });
    const [sessionToken] = tokensIssuedBy(h.sim, 'login');
    h.clock.advance(INTO_ROTATION_WINDOW_MS);

    // A: rotated first by the simulator, its answer held back.
    holdNextRotation = true;
    const late = h.adapter.fetchAccounts({ currencies: null });
    await expect.poll(() => tokensIssuedBy(h.sim, 'rotation').length).toBe(1);
    const [olderRotation] = tokensIssuedBy(h.sim, 'rotation');
    // B: rotated second, answered at once and adopted.
    await h.adapter.fetchAccounts({ currencies: null });
    const newerRotation = tokensIssuedBy(h.sim, 'rotation')[1];
    expect(h.tokens.current()?.value).toBe(newerRotation);

    release();
    await expect(late).resolves.toHaveLength(2);
    await h.adapter.fetchAccounts({ currencies: null });

    expect(h.tokens.current()?.value).toBe(newerRotation);
    expect(bearerOf(h.balanceReads().at(-1))).toBe(newerRotation);
    expect(h.balanceReads().map(bearerOf)).not.toContain(olderRotation);
    expect(h.balanceReads().filter((call) => bearerOf(call) === sessionToken)).toHaveLength(3);
    expect(h.logins()).toHaveLength(1);
  });

  it('HTTP 200 with ResponseCode 401 causes exactly one re-login and one retry, and the read succeeds', async () => {
    const h = await startHarness({ sim: { authFailuresAsHttp200: true } });
    await h.adapter.fetchAccounts({ currencies: null });
    h.sim.revokeSessions();

    await expect(h.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    const [first, second] = tokensIssuedBy(h.sim, 'login');
    expect(h.logins()).toHaveLength(2);
    expect(h.balanceReads().map((call) => [bearerOf(call), call.status])).toEqual([
      [first, 200],
      [first, 200], // ResponseCode 401, under HTTP 200
      [second, 200],
    ]);
  });

  it('a re-login whose token is rejected too gives UPSTREAM_AUTH_FAILED after exactly one re-login', async () => {
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    h.sim.failBalanceReads({ responseCode: 401 });

    const error = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error).not.toBeInstanceOf(UpstreamTokenRejectedError);
    expect(error.retryable).toBe(false);
    expect(h.logins()).toHaveLength(2);
    expect(h.balanceReads()).toHaveLength(3);

    // A token from a fresh login that is rejected is not retried with yet another login.
    const cold = await startHarness();
    cold.sim.failBalanceReads({ responseCode: 401, httpStatus: 401 });
    const coldError = await upstreamErrorOf(cold.adapter.fetchAccounts({ currencies: null }));
    expect(coldError.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(cold.logins()).toHaveLength(1);
    expect(cold.balanceReads()).toHaveLength(1);
  });

  it('an expired session causes one new login before the read, not a rejected call', async () => {
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    h.clock.advance(SESSION_TTL_MS + 1_000);

    await expect(h.adapter.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    const [first, second] = tokensIssuedBy(h.sim, 'login');
    expect(h.logins()).toHaveLength(2);
    expect(h.balanceReads().map((call) => [bearerOf(call), call.status])).toEqual([
      [first, 200],
      [second, 200],
    ]);
  });

  it('20 concurrent cold reads share exactly one login', async () => {
    const h = await startHarness();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.adapter.fetchAccounts({ currencies: null })),
    );
    expect(results.every((accounts) => accounts.length === 2)).toBe(true);
    expect(h.logins()).toHaveLength(1);
    const [token] = tokensIssuedBy(h.sim, 'login');
    expect(h.balanceReads().map(bearerOf)).toEqual(Array(20).fill(token));
  });

  it('maps balance errors by ResponseCode, under HTTP 200 or as the HTTP status', async () => {
    const cases = [
      { responseCode: 500, httpStatus: 200, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
      { responseCode: 503, httpStatus: 200, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
      { responseCode: 503, httpStatus: 503, code: 'UPSTREAM_UNAVAILABLE', retryable: true },
      { responseCode: 429, httpStatus: 429, code: 'UPSTREAM_RATE_LIMITED', retryable: true },
      { responseCode: 404, httpStatus: 200, code: 'UPSTREAM_NOT_FOUND', retryable: false },
      { responseCode: 410, httpStatus: 410, code: 'UPSTREAM_NOT_FOUND', retryable: false },
      { responseCode: 422, httpStatus: 200, code: 'UPSTREAM_BAD_RESPONSE', retryable: false },
      { responseCode: 400, httpStatus: 400, code: 'UPSTREAM_BAD_RESPONSE', retryable: false },
    ] as const;
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    for (const { responseCode, httpStatus, code, retryable } of cases) {
      h.sim.failBalanceReads({ responseCode, httpStatus });
      const error = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
      expect({ responseCode, httpStatus, code: error.code, retryable: error.retryable }).toEqual({
        responseCode,
        httpStatus,
        code,
        retryable,
      });
    }
    h.sim.failBalanceReads({ responseCode: 503 });
    const error503 = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
    expect(error503.message).toBe(
      'merchant-1: Get Account Balance failed upstream (ResponseCode 503 under HTTP 200)',
    );
    // None of these is a token problem: still the one login.
    expect(h.logins()).toHaveLength(1);
  });

  it('a body that is not the contract, or not JSON, is UPSTREAM_BAD_RESPONSE naming what broke', async () => {
    let answer = '';
    const h = await startHarness({
      wrap: (simRequest, next) =>
        simRequest.path === BALANCE_PATH ? { status: 200, body: answer } : next(),
    });
    answer = '{"ResponseCode":200,"ResponseData":[{"Balance":"1","Currency":"USD","Id":"1"}]}';
    const missing = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
    expect(missing.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(missing.message).toBe(
      "merchant-1: the balance read broke the provider's contract: body.ResponseData[0].AvailableBalance: expected an amount, received nothing",
    );
    answer = '<html>gateway</html>';
    const notJson = await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null }));
    expect(notJson.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(notJson.message).toMatch(
      /^merchant-1: the balance read broke the provider's contract: the body is not valid JSON/,
    );
  });

  it('a session used from another client IP gets 403 and UPSTREAM_AUTH_FAILED saying so; the next read starts a session from the new address', async () => {
    const h = await startHarness();
    await h.adapter.fetchAccounts({ currencies: null });
    const [first] = tokensIssuedBy(h.sim, 'login');
    const moved = h.adapterFromOtherAddress();

    const error = await upstreamErrorOf(moved.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.message).toBe(
      'merchant-1: the provider refused the session (HTTP 403): a session token works only from the client IP address that obtained it',
    );
    expect(h.balanceReads().at(-1)).toMatchObject({ status: 403 });
    expect(bearerOf(h.balanceReads().at(-1))).toBe(first);
    expect(h.logins()).toHaveLength(1);

    await expect(moved.fetchAccounts({ currencies: null })).resolves.toHaveLength(2);
    expect(h.logins()).toHaveLength(2);
    expect(h.sim.issuedSessions().at(-1)?.remoteAddress).toBe('127.0.0.2');
  });

  it('never puts the client secret, a session token or an upstream message in an error message', async () => {
    // The simulator echoes what it received into ResponseMessage, as careless upstreams do.
    const h = await startHarness({
      sim: { authFailuresAsHttp200: true },
      wrap: async (simRequest, next) => {
        const response = await next();
        const body = JSON.parse(response.body ?? 'null') as { ResponseCode?: number } | null;
        if (body?.ResponseCode === 200) return response;
        const echo = `${simRequest.body} ${simRequest.headers.authorization ?? ''}`;
        return { ...response, body: JSON.stringify({ ...body, ResponseMessage: echo }) };
      },
    });
    const errors: UpstreamError[] = [];
    const collect = async () =>
      errors.push(await upstreamErrorOf(h.adapter.fetchAccounts({ currencies: null })));

    await h.adapter.fetchAccounts({ currencies: null });
    for (const responseCode of [401, 422, 500, 503, 404, 429]) {
      h.sim.failBalanceReads({ responseCode });
      await collect();
    }
    h.sim.failBalanceReads(undefined);
    errors.push(
      await upstreamErrorOf(h.adapterFromOtherAddress().fetchAccounts({ currencies: null })),
    );
    const wrongSecret = await startHarness({
      clientSecret: `${CLIENT_SECRET}-wrong`,
      sim: { authFailuresAsHttp200: true },
    });
    errors.push(await upstreamErrorOf(wrongSecret.adapter.fetchAccounts({ currencies: null })));

    expect(errors.length).toBeGreaterThanOrEqual(8);
    const secrets = [CLIENT_SECRET, ...h.sim.issuedSessions().map((session) => session.token)];
    for (const error of errors) {
      const texts = [error.message, String((error.cause as Error | undefined)?.message ?? '')];
      for (const secret of secrets) for (const text of texts) expect(text).not.toContain(secret);
      expect(error.message).not.toMatch(/"ClientId"|Bearer/);
    }
  });
});

describe('merchant error table: each answer maps as PROVIDERS.md says', () => {
  let upstream: CannedUpstream;
  let config: ProviderConfigOf<'merchant'>;
  beforeAll(async () => {
    upstream = await startCannedUpstream('merchant-1');
    config = providerConfig('merchant', {
      id: 'merchant-1',
      baseUrl: upstream.baseUrl,
      credentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  const envelope = (code: number | string) =>
    `{"ResponseCode":${JSON.stringify(code)},"ResponseMessage":"x","ResponseData":null}`;
  const read = 'merchant-1: Get Account Balance';
  /** A balance answer, and whether the session is to be dropped as bound to another address. */
  const reads: {
    name: string;
    answer: CannedAnswer;
    expected: ExpectedFailure;
    boundElsewhere?: true;
  }[] = [
    {
      name: 'ResponseCode 401 under HTTP 200 rejects the token: one re-login',
      answer: { status: 200, body: envelope(401) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 200,
        tokenRejected: true,
        message:
          'merchant-1: the provider rejected the session token (ResponseCode 401 under HTTP 200)',
      },
    },
    {
      name: 'HTTP 401 rejects the token',
      answer: { status: 401, body: envelope(401) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        tokenRejected: true,
        message: 'merchant-1: the provider rejected the session token (HTTP 401)',
      },
    },
    {
      name: 'HTTP 401 without an envelope rejects the token',
      answer: { status: 401, body: '<html>401</html>' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        tokenRejected: true,
        message: 'merchant-1: the provider rejected the session token (HTTP 401)',
      },
    },
    {
      name: 'the ResponseCode decides under an HTTP error too',
      answer: { status: 503, body: envelope(401) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 503,
        tokenRejected: true,
        message:
          'merchant-1: the provider rejected the session token (ResponseCode 401 under HTTP 503)',
      },
    },
    {
      name: 'HTTP 403 (another client address) refuses the session and drops it',
      answer: { status: 403, body: envelope(403) },
      boundElsewhere: true,
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 403,
        message:
          'merchant-1: the provider refused the session (HTTP 403): a session token works only from the client IP address that obtained it',
      },
    },
    {
      name: 'ResponseCode 403 under HTTP 200 refuses the session and drops it',
      answer: { status: 200, body: envelope(403) },
      boundElsewhere: true,
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 200,
        message:
          'merchant-1: the provider refused the session (ResponseCode 403 under HTTP 200): a session token works only from the client IP address that obtained it',
      },
    },
    {
      name: 'ResponseCode 404 under HTTP 200 is not found',
      answer: { status: 200, body: envelope(404) },
      expected: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 200,
        message: `${read} found no merchant account (ResponseCode 404 under HTTP 200)`,
      },
    },
    {
      name: 'HTTP 410 is not found',
      answer: { status: 410, body: envelope(410) },
      expected: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 410,
        message: `${read} found no merchant account (HTTP 410)`,
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: envelope(429), headers: { 'retry-after': '9' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 9,
        message: `${read} was rate limited (HTTP 429); retry after 9 s`,
      },
    },
    {
      name: 'ResponseCode 429 under HTTP 200 is rate limited, with Retry-After',
      answer: { status: 200, body: envelope(429), headers: { 'retry-after': '4' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 200,
        retryAfterSeconds: 4,
        message: `${read} was rate limited (ResponseCode 429 under HTTP 200); retry after 4 s`,
      },
    },
    {
      name: 'ResponseCode 429 without Retry-After is rate limited',
      answer: { status: 200, body: envelope(429) },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 200,
        message: `${read} was rate limited (ResponseCode 429 under HTTP 200)`,
      },
    },
    {
      name: 'ResponseCode 503 under HTTP 200 is unavailable',
      answer: { status: 200, body: envelope(503) },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 200,
        message: `${read} failed upstream (ResponseCode 503 under HTTP 200)`,
      },
    },
    {
      name: 'HTTP 500 is unavailable',
      answer: { status: 500, body: envelope(500) },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 500,
        message: `${read} failed upstream (HTTP 500)`,
      },
    },
    {
      name: 'a ResponseCode 200 never turns an HTTP 502 into a success',
      answer: { status: 502, body: envelope(200) },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 502,
        message: `${read} failed upstream (HTTP 502)`,
      },
    },
    {
      name: 'ResponseCode 422 under HTTP 200 is an answer the contract does not define',
      answer: { status: 200, body: envelope(422) },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 200,
        message: `${read} answered ResponseCode 422 under HTTP 200, which the provider's contract does not define`,
      },
    },
    {
      name: 'a ResponseCode beyond 599 is no server error: the contract does not define it',
      answer: { status: 200, body: envelope(1001) },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 200,
        message: `${read} answered ResponseCode 1001 under HTTP 200, which the provider's contract does not define`,
      },
    },
    {
      name: 'HTTP 400 is an answer the contract does not define',
      answer: { status: 400, body: envelope(400) },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 400,
        message: `${read} answered HTTP 400, which the provider's contract does not define`,
      },
    },
    {
      name: 'HTTP 200 whose ResponseCode is the string "200" breaks the contract',
      answer: { status: 200, body: '{"ResponseCode":"200","ResponseData":[]}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "merchant-1: the balance read broke the provider's contract: body.ResponseCode: expected 200 in a successful answer",
      },
    },
    {
      name: 'HTTP 200 whose body is no object breaks the contract',
      answer: { status: 200, body: '"ok"' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "merchant-1: the balance read broke the provider's contract: body: expected an object, received a string",
      },
    },
  ];

  for (const { name, answer, expected, boundElsewhere } of reads) {
    it(`balance read: ${name}`, async () => {
      upstream.answer(answer);
      const events: string[] = [];
      const read = fetchMerchantBalances(upstream.http, config, 'token', {
        onRefreshToken: () => events.push('refresh'),
        onBoundToOtherAddress: () => events.push('bound elsewhere'),
      });
      expect(await mappedFailure(read)).toEqual(expected);
      expect(events).toEqual(boundElsewhere ? ['bound elsewhere'] : []);
    });
  }

  it('balance read: ResponseCode 200 under HTTP 200 is the answer, and x-refresh-token rotates the session', async () => {
    upstream.answer({
      status: 200,
      body: `{"ResponseCode":200,"ResponseMessage":"Success","ResponseData":[${JSON.stringify(ENTRIES[0])}]}`,
      headers: { 'x-refresh-token': 'rotated-1' },
    });
    const events: string[] = [];
    const accounts = await fetchMerchantBalances(upstream.http, config, 'token', {
      onRefreshToken: (token) => events.push(`refresh ${token}`),
      onBoundToOtherAddress: () => events.push('bound elsewhere'),
    });
    expect(accounts.map((account) => account.upstreamId)).toEqual(['417971020']);
    expect(events).toEqual(['refresh rotated-1']);
  });

  const login = 'merchant-1: Get Session Token';
  const logins: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: 'HTTP 401 rejects the credentials, for good',
      answer: { status: 401, body: envelope(401) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'merchant-1: the provider rejected the login (invalid ClientId or ClientSecret)',
      },
    },
    {
      name: 'ResponseCode 401 under HTTP 200 rejects the credentials',
      answer: { status: 200, body: envelope(401) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 200,
        message: 'merchant-1: the provider rejected the login (invalid ClientId or ClientSecret)',
      },
    },
    {
      name: 'ResponseCode 403 under HTTP 200 refuses this client',
      answer: { status: 200, body: envelope(403) },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 200,
        message:
          'merchant-1: the provider refused the login (ResponseCode 403 under HTTP 200); check that this client and its address are allowed',
      },
    },
    {
      name: 'HTTP 404 is not found',
      answer: { status: 404, body: envelope(404) },
      expected: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 404,
        message: `${login} found no merchant account (HTTP 404)`,
      },
    },
    {
      name: 'ResponseCode 503 under HTTP 200 is unavailable',
      answer: { status: 200, body: envelope(503) },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 200,
        message: `${login} failed upstream (ResponseCode 503 under HTTP 200)`,
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{}', headers: { 'retry-after': '2' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 2,
        message: `${login} was rate limited (HTTP 429); retry after 2 s`,
      },
    },
    {
      name: 'HTTP 200 without a ResponseCode breaks the contract',
      answer: { status: 200, body: '{"ResponseData":{"SessionToken":"s","ExpiresIn":1800}}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "merchant-1: the login broke the provider's contract: session body.ResponseCode: expected 200 in a successful answer",
      },
    },
    {
      name: 'HTTP 200 whose body is not JSON breaks the contract',
      answer: { status: 200, body: 'not json' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "merchant-1: the login broke the provider's contract: the body is not valid JSON (a value was expected, at position 0)",
      },
    },
  ];

  for (const { name, answer, expected } of logins) {
    it(`login: ${name}`, async () => {
      upstream.answer(answer);
      const before = upstream.requests();
      expect(await mappedFailure(getMerchantSessionToken(upstream.http, config, () => 0))).toEqual(
        expected,
      );
      expect(upstream.requests() - before).toBe(1);
    });
  }

  it('login: ResponseCode 200 under HTTP 200 gives the session for ExpiresIn seconds', async () => {
    upstream.answer({
      status: 200,
      body: '{"ResponseCode":200,"ResponseMessage":"Success","ResponseData":{"SessionToken":"s-1","ExpiresIn":1800}}',
    });
    await expect(getMerchantSessionToken(upstream.http, config, () => 5)).resolves.toEqual({
      token: { value: 's-1', expiresAt: 5 + 1_800_000 },
      lifetimeMs: 1_800_000,
    });
  });
});
