import { Agent, request } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBalanceLoader } from '../../src/balance-loader.js';
import { type AppConfig, parseConfig } from '../../src/config/load.js';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import { loginToWallet } from '../../src/providers/wallet/auth.js';
import { fetchWalletBalances } from '../../src/providers/wallet/client.js';
import { createWalletAdapter } from '../../src/providers/wallet/index.js';
import { normalizeWalletBalances } from '../../src/providers/wallet/normalize.js';
import {
  createWalletSimulator,
  type WalletAccountData,
  type WalletSimulator,
} from '../../src/providers/wallet/sandbox.js';
import { createMovableClock, type MovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import type { Simulator } from '../../src/sandbox/simulator.js';
import { createAppRuntime } from '../../src/tenants.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { TokenCacheByTenantAndProvider } from '../../src/upstream/token-cache.js';
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

const WALLET_ID = '1f44b1c7-9fd4-4d20-b9a4-7aca3646d0d5';
const OTHER_WALLET_ID = '0b7e5b52-8f40-4c0e-9a0b-3f8ad1f7c111';
// Canaries: no error message may ever contain one of these.
const API_KEY = 'canary-api-key-7f3a9c';
const EMAIL = 'treasury@example.test';
const PASSWORD = 'canary-password-51d2e8';
const OTHER_API_KEY = 'canary-other-key-90be44';
const UNKNOWN_API_KEY = 'canary-unknown-key-3c1d07';
const WRONG_PASSWORD = 'canary-wrong-password-e2a6f1';
const SECRETS = [API_KEY, PASSWORD, OTHER_API_KEY, UNKNOWN_API_KEY, WRONG_PASSWORD];

function sandboxWallets(): WalletAccountData[] {
  return [
    {
      walletId: WALLET_ID,
      apiKey: API_KEY,
      email: EMAIL,
      password: PASSWORD,
      assets: [
        {
          asset: 'BTC',
          balance: '0',
          holdBalance: '0',
          lockBalance: '0',
          referralBalance: '0',
          depositAddress: {
            BTC: { address: 'bc1q4curzl6agt0l3zvc3ermrzuesm2f9nevm9rll0', memo: null },
          },
        },
        {
          asset: 'USDT',
          balance: '9007199254740993.01',
          holdBalance: '0.99',
          lockBalance: '1',
          referralBalance: '5.5',
          depositAddress: { TRX: { address: 'TW6fBsVChypHoN3xFXpizHFJNQa7b1wRWc', memo: null } },
        },
        {
          asset: 'ETH',
          balance: '0.000000000000000001',
          holdBalance: '0',
          lockBalance: '0',
          referralBalance: '0',
          depositAddress: {},
        },
        {
          asset: 'XRP',
          balance: '10.5',
          holdBalance: '0',
          lockBalance: '0.25',
          referralBalance: '0',
          depositAddress: {
            XRP: { address: 'rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh', memo: '104234' },
          },
        },
      ],
    },
    {
      walletId: OTHER_WALLET_ID,
      apiKey: OTHER_API_KEY,
      assets: [
        { asset: 'DOGE', balance: '1', holdBalance: '0', lockBalance: '0', referralBalance: '0' },
      ],
    },
  ];
}

type Credentials = { apiKey: string } | { email: string; password: string };
const API_KEY_CREDENTIALS: Credentials = { apiKey: API_KEY };
const LOGIN_CREDENTIALS: Credentials = { email: EMAIL, password: PASSWORD };

let clock: MovableClock;
let sim: WalletSimulator;
let server: SandboxServer;
let dispatcher: Agent;
let cleanups: (() => Promise<void>)[];

beforeEach(async () => {
  clock = createMovableClock();
  sim = createWalletSimulator({ wallets: sandboxWallets(), clock });
  server = await startSandboxServer({ simulators: [sim], clock });
  dispatcher = new Agent();
  cleanups = [];
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await dispatcher.close();
  await server.close();
});

/** A configuration document with one wallet provider, as a user would write it. */
function configDocument(provider: Record<string, unknown>, baseUrl = server.baseUrl('wallet')) {
  return {
    providers: [
      {
        id: 'treasury',
        kind: 'wallet',
        baseUrl,
        walletId: WALLET_ID,
        credentials: API_KEY_CREDENTIALS,
        ...provider,
      },
    ],
  };
}

function parseDocument(document: unknown): AppConfig {
  return parseConfig(document, { source: 'test', env: {}, baseDir: process.cwd() });
}

function walletConfig(
  provider: Record<string, unknown> = {},
  baseUrl?: string,
): ProviderConfigOf<'wallet'> {
  const config = parseDocument(configDocument(provider, baseUrl)).tenants[0]?.providers[0];
  if (config?.kind !== 'wallet') throw new Error('expected a wallet provider in the test config');
  return config;
}

function createAdapter(
  provider: Record<string, unknown> = {},
  baseUrl?: string,
): StandaloneAdapter {
  const config = walletConfig(provider, baseUrl);
  return standalone(
    createWalletAdapter({
      tenantId: 't',
      config,
      dispatcher,
      tokens: new TokenCacheByTenantAndProvider({ now: clock.now }).slot('t', config.id),
      now: clock.now,
    }),
  );
}

/** Another sandbox server (e.g. with a stub simulator), closed after the test. */
async function startExtraServer(simulator: Simulator): Promise<SandboxServer> {
  const extra = await startSandboxServer({ simulators: [simulator], clock });
  cleanups.push(() => extra.close());
  return extra;
}

async function upstreamErrorOf(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof UpstreamError)) {
    throw new Error(`expected an UpstreamError, received ${String(error)}`);
  }
  return error;
}

function logins() {
  return server.calls('wallet').filter((call) => call.path === '/v2/auth/login');
}

function balanceCalls() {
  return server.calls('wallet').filter((call) => call.path === '/v2/balance');
}

function bodyOf(call: { body: string }): Record<string, unknown> {
  return JSON.parse(call.body) as Record<string, unknown>;
}

/** A raw call to the simulator, to check what it answers on the wire. */
async function postToSim(
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const response = await request(`${server.baseUrl('wallet')}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
    dispatcher,
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

async function loginToSim(): Promise<string> {
  const response = await postToSim('/v2/auth/login', JSON.stringify(LOGIN_CREDENTIALS));
  expect(response.status).toBe(200);
  const body = JSON.parse(response.text) as { data: { accessToken: string; expiresIn: number } };
  return body.data.accessToken;
}

describe('wallet normalization (fixtures)', () => {
  for (const name of ['seed-example', 'precision']) {
    it(`normalizes ${name} into one account for the wallet`, () => {
      const fixture = loadFixture('wallet', name);
      const walletId = String(fixture.options?.walletId);
      expect(plainAccounts(normalizeWalletBalances(fixture.raw, walletId))).toEqual(
        fixture.expected,
      );
    });
  }

  it('reports the referral pot as a component but leaves it out of the total', () => {
    const body = parseLosslessJson(
      '{"data":[{"balance":"1","asset":"BTC","holdBalance":"2","lockBalance":"3","referralBalance":"1000"}]}',
    );
    const [balance] = normalizeWalletBalances(body, 'w')[0]?.balances ?? [];
    expect(balance?.total.toString()).toBe('6');
    expect(balance?.components.map((c) => [c.kind, c.amount.toString()])).toEqual([
      ['HOLD', '2'],
      ['LOCKED', '3'],
      ['REFERRAL', '1000'],
    ]);
  });

  it('reads an empty wallet as one account with no balances', () => {
    expect(plainAccounts(normalizeWalletBalances(parseLosslessJson('{"data":[]}'), 'w'))).toEqual([
      {
        upstreamId: 'w',
        name: null,
        type: null,
        status: null,
        suppressed: false,
        balances: [],
      },
    ]);
  });

  it('names the field and the type received when the body breaks the contract', () => {
    const normalize = (text: string) => () => normalizeWalletBalances(parseLosslessJson(text), 'w');
    expect(
      normalize(
        '{"data":[{"balance":"abc","asset":"BTC","holdBalance":"0","lockBalance":"0","referralBalance":"0"}]}',
      ),
    ).toThrow('body.data[0].balance: expected an amount, received a string that is not a number');
    expect(normalize('{"data":[{"balance":"1","holdBalance":"0"}]}')).toThrow(
      'body.data[0].asset: expected a string, received nothing',
    );
    expect(normalize('{"data":{}}')).toThrow('body.data: expected an array, received an object');
    expect(normalize('{"data":[{"balance":"1","asset":"X","depositAddress":[]}]}')).toThrow(
      'body.data[0].depositAddress: expected an object, received an array',
    );
    expect(
      normalize('{"data":[{"balance":"1","asset":"X","depositAddress":{"TRX":{"memo":null}}}]}'),
    ).toThrow('body.data[0].depositAddress.TRX.address: expected a string, received nothing');
  });

  it('names a network by its place, not its text, when the key is not a short code', () => {
    const network = `canary-network-${'n'.repeat(100_000)}`;
    const text = `{"data":[{"balance":"1","asset":"X","depositAddress":{"TRX":null,"${network}":{"memo":null}}}]}`;
    let message = '';
    try {
      normalizeWalletBalances(parseLosslessJson(text), 'w');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'body.data[0].depositAddress[key 1].address: expected a string, received nothing',
    );
  });

  it('refuses a number outside the bounds of an amount by its path, without expanding it', () => {
    const body = parseLosslessJson(
      '{"data":[{"balance":"1","asset":"BTC"},{"balance":"1","asset":"USDT","holdBalance":1e9000000}]}',
    );
    expect(() => normalizeWalletBalances(body, 'w')).toThrow(
      'body.data[1].holdBalance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});

describe('wallet with an API key', () => {
  it('sends X-Api-Key on every call and never logs in', async () => {
    const adapter = createAdapter({ credentials: API_KEY_CREDENTIALS });
    await adapter.fetchAccounts({ currencies: null });
    await adapter.fetchAccounts({ currencies: ['BTC'] });
    const calls = server.calls('wallet');
    expect(calls.map((call) => [call.method, call.path, call.status])).toEqual([
      ['POST', '/v2/balance', 200],
      ['POST', '/v2/balance', 200],
    ]);
    for (const call of calls) {
      expect(call.headers['x-api-key']).toBe(API_KEY);
      expect(call.headers.authorization).toBeUndefined();
      expect(call.headers['content-type']).toBe('application/json');
    }
  });

  it('reads the whole wallet with exact amounts, totals and deposit addresses', async () => {
    const adapter = createAdapter();
    const accounts = await adapter.fetchAccounts({ currencies: null });
    expect(accounts).toHaveLength(1);
    const [account] = accounts;
    expect(account?.upstreamId).toBe(WALLET_ID);
    const byCurrency = Object.fromEntries(
      (account?.balances ?? []).map((balance) => [
        balance.currency,
        {
          total: balance.total.toString(),
          available: balance.available.toString(),
          addresses: balance.depositAddresses,
        },
      ]),
    );
    expect(byCurrency).toEqual({
      BTC: {
        total: '0',
        available: '0',
        addresses: [
          {
            network: 'BTC',
            address: 'bc1q4curzl6agt0l3zvc3ermrzuesm2f9nevm9rll0',
            memo: undefined,
          },
        ],
      },
      USDT: {
        total: '9007199254740995.00',
        available: '9007199254740993.01',
        addresses: [
          { network: 'TRX', address: 'TW6fBsVChypHoN3xFXpizHFJNQa7b1wRWc', memo: undefined },
        ],
      },
      ETH: { total: '0.000000000000000001', available: '0.000000000000000001', addresses: [] },
      XRP: {
        total: '10.75',
        available: '10.5',
        addresses: [
          { network: 'XRP', address: 'rEb8TK3gBgk5auZkwc6sHnwrGVJH8DuaLh', memo: '104234' },
        ],
      },
    });
  });

  it('sends the key in the header named by apiKeyHeader', async () => {
    const custom = createWalletSimulator({
      wallets: sandboxWallets(),
      clock,
      apiKeyHeader: 'X-Wallet-Key',
    });
    const extra = await startExtraServer(custom);
    const adapter = createAdapter({ apiKeyHeader: 'X-Wallet-Key' }, extra.baseUrl('wallet'));
    const accounts = await adapter.fetchAccounts({ currencies: ['ETH'] });
    expect(accounts[0]?.balances.map((balance) => balance.currency)).toEqual(['ETH']);
    const [call] = extra.calls('wallet');
    expect(call?.headers['x-wallet-key']).toBe(API_KEY);
    expect(call?.headers['x-api-key']).toBeUndefined();
  });

  it('fails with UPSTREAM_AUTH_FAILED on a rejected key, after one call and no login', async () => {
    const adapter = createAdapter({ credentials: { apiKey: UNKNOWN_API_KEY } });
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(401);
    expect(server.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/balance', 401],
    ]);
  });
});

describe('wallet with an email and password (JWT)', () => {
  it('logs in once with the email and password, then sends the bearer token', async () => {
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS });
    await adapter.fetchAccounts({ currencies: null });
    await adapter.fetchAccounts({ currencies: ['USDT'] });
    const calls = server.calls('wallet');
    expect(calls.map((call) => [call.method, call.path, call.status])).toEqual([
      ['POST', '/v2/auth/login', 200],
      ['POST', '/v2/balance', 200],
      ['POST', '/v2/balance', 200],
    ]);
    const [login, ...reads] = calls;
    expect(bodyOf(login as { body: string })).toEqual({ email: EMAIL, password: PASSWORD });
    // Both reads carry the one token the login issued, and no API key.
    const authorizations = reads.map((read) => read.headers.authorization);
    expect(authorizations[0]).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(new Set(authorizations).size).toBe(1);
    for (const read of reads) expect(read.headers['x-api-key']).toBeUndefined();
  });

  it('shares one login among 20 concurrent cold calls', async () => {
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => adapter.fetchAccounts({ currencies: ['BTC'] })),
    );
    expect(results.every((accounts) => accounts[0]?.upstreamId === WALLET_ID)).toBe(true);
    expect(logins()).toHaveLength(1);
    expect(balanceCalls()).toHaveLength(20);
    expect(new Set(balanceCalls().map((call) => call.headers.authorization)).size).toBe(1);
  });

  it('logs in again exactly once and retries when the upstream revoked the token', async () => {
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS });
    await adapter.fetchAccounts({ currencies: null });
    sim.revokeTokens();
    const accounts = await adapter.fetchAccounts({ currencies: ['XRP'] });
    expect(accounts[0]?.balances.map((balance) => balance.currency)).toEqual(['XRP']);
    expect(server.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
      ['/v2/balance', 401],
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
    ]);
    const [, first, rejected, , retried] = server.calls('wallet');
    expect(rejected?.headers.authorization).toBe(first?.headers.authorization);
    expect(retried?.headers.authorization).not.toBe(rejected?.headers.authorization);
  });

  it('renews a token at the expiresIn the login gave, before the upstream rejects it', async () => {
    sim.setTokenTtlSeconds(60);
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS });
    await adapter.fetchAccounts({ currencies: null });
    clock.advance(61_000);
    await adapter.fetchAccounts({ currencies: null });
    // The expired token is never sent: no 401 in between.
    expect(server.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
    ]);
  });

  it('gives up with UPSTREAM_AUTH_FAILED when the token is rejected again after one re-login', async () => {
    let revokeEveryRead = false;
    const revoking: Simulator = {
      kind: 'wallet',
      handle(request) {
        if (revokeEveryRead && request.path === '/v2/balance') sim.revokeTokens();
        return sim.handle(request);
      },
    };
    const extra = await startExtraServer(revoking);
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS }, extra.baseUrl('wallet'));
    await adapter.fetchAccounts({ currencies: null });
    revokeEveryRead = true;
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(extra.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
      ['/v2/balance', 401],
      ['/v2/auth/login', 200],
      ['/v2/balance', 401],
    ]);
  });

  it('fails with UPSTREAM_AUTH_FAILED on a rejected login and never retries it', async () => {
    const adapter = createAdapter({ credentials: { email: EMAIL, password: WRONG_PASSWORD } });
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(error.retryable).toBe(false);
    expect(server.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/auth/login', 401],
    ]);
  });

  it('uses the configured login and balances paths', async () => {
    const adapter = createAdapter(
      {
        credentials: LOGIN_CREDENTIALS,
        paths: { login: '/wallet/v2/auth/login', balances: '/wallet/v2/balance' },
      },
      server.origin,
    );
    const accounts = await adapter.fetchAccounts({ currencies: ['ETH'] });
    expect(accounts[0]?.balances.map((balance) => balance.currency)).toEqual(['ETH']);
    expect(server.calls('wallet').map((call) => [call.path, call.status])).toEqual([
      ['/v2/auth/login', 200],
      ['/v2/balance', 200],
    ]);
  });

  it('fails with UPSTREAM_BAD_RESPONSE when the login answer has no usable token', async () => {
    const stub: Simulator = {
      kind: 'wallet',
      handle: () => ({ status: 200, body: '{"data":{"accessToken":"t","expiresIn":"soon"}}' }),
    };
    const extra = await startExtraServer(stub);
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS }, extra.baseUrl('wallet'));
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_BAD_RESPONSE');
    expect(error.message).toBe(
      "treasury: the login broke the provider's contract: login body.data.expiresIn: expected a positive number of seconds",
    );
  });
});

describe('wallet assets filter', () => {
  it('sends no assets field when reading the whole wallet', async () => {
    await createAdapter().fetchAccounts({ currencies: null });
    const [call] = balanceCalls();
    expect(bodyOf(call as { body: string })).toEqual({ walletId: WALLET_ID });
    expect(sim.assetRequests()).toEqual([null]);
  });

  it('sends the configured walletId and every asset asked for in one call', async () => {
    const accounts = await createAdapter().fetchAccounts({ currencies: ['USDT', 'BTC'] });
    expect(bodyOf(balanceCalls()[0] as { body: string })).toEqual({
      walletId: WALLET_ID,
      assets: ['USDT', 'BTC'],
    });
    expect(accounts[0]?.balances.map((balance) => balance.currency)).toEqual(['BTC', 'USDT']);
  });

  it('simulator: matches assets without regard to case; empty means every asset', async () => {
    const headers = { 'x-api-key': API_KEY };
    const mixed = await postToSim(
      '/v2/balance',
      JSON.stringify({ walletId: WALLET_ID, assets: ['usdt', 'Btc'] }),
      headers,
    );
    expect(mixed.status).toBe(200);
    const assets = (text: string) =>
      (JSON.parse(text) as { data: { asset: string }[] }).data.map((entry) => entry.asset);
    expect(assets(mixed.text)).toEqual(['BTC', 'USDT']);
    const empty = await postToSim(
      '/v2/balance',
      JSON.stringify({ walletId: WALLET_ID, assets: [] }),
      headers,
    );
    expect(assets(empty.text)).toEqual(['BTC', 'USDT', 'ETH', 'XRP']);
    expect(sim.assetRequests()).toEqual([['usdt', 'Btc'], []]);
  });

  it('simulator: writes amounts as JSON strings with their exact text', async () => {
    const response = await postToSim(
      '/v2/balance',
      JSON.stringify({ walletId: WALLET_ID, assets: ['USDT', 'ETH'] }),
      { 'x-api-key': API_KEY },
    );
    expect(response.text).toContain('"balance":"9007199254740993.01"');
    expect(response.text).toContain('"balance":"0.000000000000000001"');
    expect(response.text).toContain('"depositAddress":{}');
  });
});

describe('wallet simulator contract', () => {
  it('answers 401 Unauthorized to a wrong login, a missing credential and an expired token', async () => {
    const wrong = await postToSim(
      '/v2/auth/login',
      JSON.stringify({ email: EMAIL, password: WRONG_PASSWORD }),
    );
    expect([wrong.status, JSON.parse(wrong.text)]).toEqual([401, { message: 'Unauthorized' }]);
    const anonymous = await postToSim('/v2/balance', JSON.stringify({ walletId: WALLET_ID }));
    expect([anonymous.status, JSON.parse(anonymous.text)]).toEqual([
      401,
      { message: 'Unauthorized' },
    ]);
    const token = await loginToSim();
    const bearer = { authorization: `Bearer ${token}` };
    const fresh = await postToSim('/v2/balance', JSON.stringify({ walletId: WALLET_ID }), bearer);
    expect(fresh.status).toBe(200);
    clock.advance(900_000);
    const expired = await postToSim('/v2/balance', JSON.stringify({ walletId: WALLET_ID }), bearer);
    expect([expired.status, JSON.parse(expired.text)]).toEqual([401, { message: 'Unauthorized' }]);
  });

  it('issues tokens with expiresIn 900 by default', async () => {
    const response = await postToSim('/v2/auth/login', JSON.stringify(LOGIN_CREDENTIALS));
    const body = JSON.parse(response.text) as { data: { accessToken: string; expiresIn: number } };
    expect(body.data.expiresIn).toBe(900);
    expect(body.data.accessToken).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('answers 404 wallet not found for a wallet the credentials do not own', async () => {
    const notOwned = await postToSim('/v2/balance', JSON.stringify({ walletId: OTHER_WALLET_ID }), {
      'x-api-key': API_KEY,
    });
    expect([notOwned.status, JSON.parse(notOwned.text)]).toEqual([
      404,
      { message: 'wallet not found' },
    ]);
    const owned = await postToSim('/v2/balance', JSON.stringify({ walletId: OTHER_WALLET_ID }), {
      'x-api-key': OTHER_API_KEY,
    });
    expect(owned.status).toBe(200);
  });

  it('answers 400 with a message to a malformed balance body', async () => {
    const headers = { 'x-api-key': API_KEY };
    for (const body of [
      'not json',
      '{}',
      '{"walletId":42}',
      `{"walletId":"${WALLET_ID}","assets":"BTC"}`,
      `{"walletId":"${WALLET_ID}","assets":["BTC",1]}`,
    ]) {
      const response = await postToSim('/v2/balance', body, headers);
      expect(response.status, body).toBe(400);
      expect(typeof (JSON.parse(response.text) as { message?: unknown }).message).toBe('string');
    }
    expect(sim.assetRequests()).toEqual([]);
  });

  it('answers 429 with Retry-After for as many calls as it was told', async () => {
    sim.rateLimitNext(2, 30);
    const headers = { 'x-api-key': API_KEY };
    const body = JSON.stringify({ walletId: WALLET_ID });
    const first = await postToSim('/v2/balance', body, headers);
    const second = await postToSim('/v2/balance', body, headers);
    const third = await postToSim('/v2/balance', body, headers);
    expect([first.status, first.headers['retry-after']]).toEqual([429, '30']);
    expect(second.status).toBe(429);
    expect(third.status).toBe(200);
  });
});

describe('wallet errors', () => {
  it('maps an unknown wallet to UPSTREAM_NOT_FOUND, not retryable', async () => {
    for (const credentials of [API_KEY_CREDENTIALS, LOGIN_CREDENTIALS]) {
      const adapter = createAdapter({ credentials, walletId: 'no-such-wallet' });
      const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
      expect(error.code).toBe('UPSTREAM_NOT_FOUND');
      expect(error.retryable).toBe(false);
      expect(error.status).toBe(404);
    }
  });

  it("maps another owner's wallet to UPSTREAM_NOT_FOUND", async () => {
    const adapter = createAdapter({ walletId: OTHER_WALLET_ID });
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(error.code).toBe('UPSTREAM_NOT_FOUND');
  });

  it('maps 429 to UPSTREAM_RATE_LIMITED with retryAfterSeconds from Retry-After', async () => {
    const adapter = createAdapter();
    sim.rateLimitNext(1, 17);
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: ['BTC'] }));
    expect(error.code).toBe('UPSTREAM_RATE_LIMITED');
    expect(error.retryAfterSeconds).toBe(17);
    expect(error.retryable).toBe(true);
    // The limit has passed: the next read succeeds.
    await expect(adapter.fetchAccounts({ currencies: ['BTC'] })).resolves.toHaveLength(1);
  });

  it('maps a rate-limited login to UPSTREAM_RATE_LIMITED too', async () => {
    const adapter = createAdapter({ credentials: LOGIN_CREDENTIALS });
    sim.rateLimitNext(1, 5);
    const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect([error.code, error.retryAfterSeconds]).toEqual(['UPSTREAM_RATE_LIMITED', 5]);
    expect(balanceCalls()).toHaveLength(0);
  });

  it('maps 5xx to UPSTREAM_UNAVAILABLE and a broken body to UPSTREAM_BAD_RESPONSE', async () => {
    let answer = { status: 503, body: '{"message":"maintenance"}' };
    const extra = await startExtraServer({ kind: 'wallet', handle: () => answer });
    const adapter = createAdapter({}, extra.baseUrl('wallet'));
    const unavailable = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect([unavailable.code, unavailable.retryable]).toEqual(['UPSTREAM_UNAVAILABLE', true]);
    answer = { status: 200, body: '{"data":[{"asset":"BTC","balance":12.5' };
    const truncated = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(truncated.code).toBe('UPSTREAM_BAD_RESPONSE');
    answer = { status: 200, body: '{"data":[{"asset":"BTC","balance":"lots"}]}' };
    const badAmount = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
    expect(badAmount.message).toBe(
      "treasury: the balances broke the provider's contract: body.data[0].balance: expected an amount, received a string that is not a number",
    );
  });

  it('never puts an API key or a password in an error message', async () => {
    let answer = { status: 500, body: `{"message":"${API_KEY} ${PASSWORD}"}` };
    const stub = await startExtraServer({ kind: 'wallet', handle: () => answer });
    const closed = await startSandboxServer({ simulators: [], clock });
    const closedUrl = closed.baseUrl('wallet');
    await closed.close();
    const scenarios: [Record<string, unknown>, string | undefined, () => void][] = [
      [{ credentials: { apiKey: UNKNOWN_API_KEY } }, undefined, () => {}],
      [{ credentials: { email: EMAIL, password: WRONG_PASSWORD } }, undefined, () => {}],
      [{ credentials: API_KEY_CREDENTIALS, walletId: 'missing' }, undefined, () => {}],
      [{ credentials: LOGIN_CREDENTIALS, walletId: 'missing' }, undefined, () => {}],
      [{ credentials: API_KEY_CREDENTIALS }, undefined, () => sim.rateLimitNext(1, 3)],
      [{ credentials: LOGIN_CREDENTIALS }, undefined, () => sim.rateLimitNext(1, 3)],
      [{ credentials: API_KEY_CREDENTIALS }, stub.baseUrl('wallet'), () => {}],
      [{ credentials: LOGIN_CREDENTIALS }, stub.baseUrl('wallet'), () => {}],
      [
        { credentials: API_KEY_CREDENTIALS },
        stub.baseUrl('wallet'),
        () => {
          answer = {
            status: 200,
            body: `{"data":[{"asset":"${API_KEY}","balance":"${PASSWORD}"}]}`,
          };
        },
      ],
      [{ credentials: LOGIN_CREDENTIALS }, closedUrl, () => {}],
      [{ credentials: API_KEY_CREDENTIALS }, closedUrl, () => {}],
    ];
    const codes: string[] = [];
    for (const [provider, baseUrl, arrange] of scenarios) {
      arrange();
      const adapter = createAdapter(provider, baseUrl);
      const error = await upstreamErrorOf(adapter.fetchAccounts({ currencies: null }));
      codes.push(error.code);
      const texts = [error.message, String(error), JSON.stringify(error)];
      for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
        texts.push(cause.message);
      }
      for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    expect(codes).toEqual([
      'UPSTREAM_AUTH_FAILED',
      'UPSTREAM_AUTH_FAILED',
      'UPSTREAM_NOT_FOUND',
      'UPSTREAM_NOT_FOUND',
      'UPSTREAM_RATE_LIMITED',
      'UPSTREAM_RATE_LIMITED',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_BAD_RESPONSE',
      'UPSTREAM_UNAVAILABLE',
      'UPSTREAM_UNAVAILABLE',
    ]);
  });
});

describe('wallet batching through the per-request balance loader', () => {
  function startRuntime(credentials: Credentials = API_KEY_CREDENTIALS) {
    const runtime = createAppRuntime({
      config: parseDocument(configDocument({ credentials })),
      now: clock.now,
    });
    cleanups.push(() => runtime.close());
    const tenant = runtime.tenants.get('default');
    if (tenant === undefined) throw new Error('expected the default tenant');
    return createBalanceLoader(tenant);
  }

  it('declares that a read can be narrowed to any set of currencies', () => {
    expect(createAdapter().capabilities).toEqual({ currencyFilter: 'many' });
    expect(createAdapter().kind).toBe('wallet');
  });

  it('makes one POST with every asset that loads of the same tick asked for', async () => {
    const loader = startRuntime();
    const snapshots = await Promise.all([
      loader.load({ providerId: 'treasury', currencies: ['usdt'] }),
      loader.load({ providerId: 'treasury', currencies: ['BTC'] }),
      loader.load({ providerId: 'treasury', currencies: ['eth'] }),
    ]);
    const calls = balanceCalls();
    expect(calls).toHaveLength(1);
    const body = bodyOf(calls[0] as { body: string });
    expect(body.walletId).toBe(WALLET_ID);
    expect([...(body.assets as string[])].sort()).toEqual(['BTC', 'ETH', 'USDT']);
    for (const snapshot of snapshots) {
      expect(snapshot.accounts[0]?.balances.map((balance) => balance.currency).sort()).toEqual([
        'BTC',
        'ETH',
        'USDT',
      ]);
    }
  });

  it('makes one POST without assets when a load of the same tick needs the whole wallet', async () => {
    const loader = startRuntime(LOGIN_CREDENTIALS);
    const [narrow, whole] = await Promise.all([
      loader.load({ providerId: 'treasury', currencies: ['BTC'] }),
      loader.load({ providerId: 'treasury', currencies: null }),
    ]);
    expect(logins()).toHaveLength(1);
    const calls = balanceCalls();
    expect(calls).toHaveLength(1);
    expect(bodyOf(calls[0] as { body: string })).toEqual({ walletId: WALLET_ID });
    expect(whole.accounts[0]?.balances).toHaveLength(4);
    expect(narrow).toBe(whole);
  });
});

describe('wallet error table: each answer maps as PROVIDERS.md says', () => {
  let upstream: CannedUpstream;
  let config: ProviderConfigOf<'wallet'>;
  beforeAll(async () => {
    upstream = await startCannedUpstream('wallet-1');
    config = providerConfig('wallet', {
      id: 'wallet-1',
      baseUrl: upstream.baseUrl,
      walletId: WALLET_ID,
      credentials: { email: EMAIL, password: PASSWORD },
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  const session = { headers: { authorization: 'Bearer t' }, mode: 'session' as const };
  const apiKey = { headers: { 'x-api-key': 'k' }, mode: 'api-key' as const };
  /** A balances answer, for a session token and, where it differs, for an API key. */
  const reads: {
    name: string;
    answer: CannedAnswer;
    expected: ExpectedFailure;
    withApiKey?: ExpectedFailure;
  }[] = [
    {
      name: 'HTTP 401 rejects the token (one re-login); an API key, for good',
      answer: { status: 401, body: '{"message":"Unauthorized"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        tokenRejected: true,
        message: 'wallet-1: the provider rejected the access token',
      },
      withApiKey: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'wallet-1: the provider rejected the API key',
      },
    },
    {
      name: 'HTTP 403 refuses access to the wallet',
      answer: { status: 403, body: '{"message":"Forbidden"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 403,
        message: 'wallet-1: the provider refused access to the wallet (HTTP 403)',
      },
    },
    {
      name: 'HTTP 404 (wallet not found) is not found',
      answer: { status: 404, body: '{"message":"wallet not found"}' },
      expected: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 404,
        message: `wallet-1: wallet "${WALLET_ID}" was not found, or these credentials do not own it`,
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{"message":"slow down"}', headers: { 'retry-after': '6' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 6,
        message: 'wallet-1: the balances was rate limited (HTTP 429); retry after 6 s',
      },
    },
    {
      name: 'HTTP 503 is unavailable',
      answer: { status: 503, body: '<html>down</html>' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 503,
        message: 'wallet-1: the balances failed upstream (HTTP 503)',
      },
    },
    {
      name: 'HTTP 400 is an answer the contract does not define',
      answer: { status: 400, body: '{"message":"bad body"}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 400,
        message:
          "wallet-1: the balances answered HTTP 400, which the provider's contract does not define",
      },
    },
    {
      name: 'HTTP 200 without data breaks the contract',
      answer: { status: 200, body: '{"message":"ok"}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "wallet-1: the balances broke the provider's contract: body.data: expected an array, received nothing",
      },
    },
    {
      name: 'HTTP 200 whose body is not JSON breaks the contract',
      answer: { status: 200, body: '' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "wallet-1: the balances broke the provider's contract: the body is empty, expected JSON",
      },
    },
  ];

  for (const { name, answer, expected, withApiKey } of reads) {
    it(`balances: ${name}`, async () => {
      upstream.answer(answer);
      expect(
        await mappedFailure(fetchWalletBalances(upstream.http, config, session, null)),
      ).toEqual(expected);
      expect(await mappedFailure(fetchWalletBalances(upstream.http, config, apiKey, null))).toEqual(
        withApiKey ?? expected,
      );
    });
  }

  it('balances: HTTP 200 is the answer', async () => {
    upstream.answer({
      status: 200,
      body: '{"data":[{"balance":"0.64","asset":"USDT","holdBalance":"0","lockBalance":"0","referralBalance":"0"}]}',
    });
    const accounts = await fetchWalletBalances(upstream.http, config, session, ['usdt']);
    expect(accounts[0]?.balances.map((balance) => balance.total.toString())).toEqual(['0.64']);
  });

  const logins: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: 'HTTP 401 rejects the credentials, for good',
      answer: { status: 401, body: '{"message":"Unauthorized"}' },
      expected: {
        code: 'UPSTREAM_AUTH_FAILED',
        retryable: false,
        status: 401,
        message: 'wallet-1: the provider rejected the login (invalid email or password)',
      },
    },
    {
      name: 'HTTP 429 is rate limited',
      answer: { status: 429, body: '{}' },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        message: 'wallet-1: the login was rate limited (HTTP 429)',
      },
    },
    {
      name: 'HTTP 500 is unavailable',
      answer: { status: 500, body: '{}' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 500,
        message: 'wallet-1: the login failed upstream (HTTP 500)',
      },
    },
    {
      name: 'HTTP 403 is an answer the contract does not define',
      answer: { status: 403, body: '{}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 403,
        message:
          "wallet-1: the login answered HTTP 403, which the provider's contract does not define",
      },
    },
    {
      name: 'HTTP 200 without expiresIn breaks the contract',
      answer: { status: 200, body: '{"data":{"accessToken":"jwt"}}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "wallet-1: the login broke the provider's contract: login body.data.expiresIn: expected a positive number of seconds",
      },
    },
  ];

  for (const { name, answer, expected } of logins) {
    it(`login: ${name}`, async () => {
      upstream.answer(answer);
      const before = upstream.requests();
      const login = loginToWallet(
        upstream.http,
        config,
        { email: EMAIL, password: PASSWORD },
        () => 0,
      );
      expect(await mappedFailure(login)).toEqual(expected);
      expect(upstream.requests() - before).toBe(1);
    });
  }

  it('login: HTTP 200 gives the token for expiresIn seconds', async () => {
    upstream.answer({ status: 200, body: '{"data":{"accessToken":"jwt-2","expiresIn":900}}' });
    const login = loginToWallet(
      upstream.http,
      config,
      { email: EMAIL, password: PASSWORD },
      () => 7,
    );
    await expect(login).resolves.toEqual({ value: 'jwt-2', expiresAt: 7 + 900_000 });
  });
});
