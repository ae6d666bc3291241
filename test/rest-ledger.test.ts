import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { LEDGERLY_DEMO_CREDENTIALS, ledgerlyRestProvider } from '../src/providers/rest/demo.js';
import { LEDGERLY_TOKEN_PATH, restSandbox } from '../src/providers/rest/sandbox.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { parseSandboxFault } from '../src/sandbox/faults.js';
import {
  balanceCalls,
  type GraphQLResult,
  loginCalls,
  startTestApp,
  type TestApp,
} from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';

/**
 * Ledgerly, the sandbox's OAuth2 / cursor / minor-units API, read end to end through balance-api
 * by the demo `rest` configuration alone: exact balances, one re-login on the expired-token code
 * inside HTTP 200, and the contract's error for each fault the API can show. The client secret
 * is a canary that no response and no log line may hold.
 */

const CANARY = 'canary6r';
const SECRET = `${CANARY}-ledgerly-secret`;
const logs = captureLogs();
const responses: string[] = [];

const DASHBOARD = `{
  providers {
    id kind name
    accounts {
      upstreamId name type status suppressed
      balances {
        currency network total available
        components { kind amount }
        depositAddresses { network address memo }
        updatedAt
      }
    }
  }
  totals { complete missingProviders currencies { currency total available } }
}`;

const ACCOUNTS_ONLY = '{ providers { id accounts { upstreamId balances { currency total } } } }';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** The sandbox's data with the demo client's secret a canary, changed by `change`. */
function ledgerlyData(change: (data: SandboxData['rest']) => void = () => {}): SandboxData {
  const data = createDemoSandboxData();
  const client = data.rest.clients[0];
  if (client !== undefined) client.clientSecret = SECRET;
  change(data.rest);
  return data;
}

/** balance-api with one provider, the demo `rest` configuration of Ledgerly, `extra` merged in. */
async function startLedgerly(
  options: {
    extra?: Record<string, unknown>;
    auth?: Record<string, unknown>;
    data?: SandboxData;
  } = {},
): Promise<TestApp> {
  app = await startTestApp({
    data: options.data ?? ledgerlyData(),
    log: logs.log,
    configDocument: (baseUrl) => {
      const provider = ledgerlyRestProvider(baseUrl('rest'));
      return {
        providers: [
          {
            ...provider,
            credentials: { ...LEDGERLY_DEMO_CREDENTIALS, clientSecret: SECRET },
            auth: { ...(provider.auth as object), ...options.auth },
            ...options.extra,
          },
        ],
      };
    },
  });
  return app;
}

async function query(current: TestApp, text: string): Promise<GraphQLResult> {
  const result = await current.query(text);
  responses.push(JSON.stringify(result));
  return result;
}

function simulatorOf(current: TestApp) {
  return current.sandbox.simulators.rest;
}

/** The one error of a result, on the provider's accounts. */
function providerError(result: GraphQLResult) {
  expect(result.errors).toHaveLength(1);
  const error = result.errors?.[0];
  expect(error?.path).toEqual(['providers', 0, 'accounts']);
  expect(error?.message.startsWith('ledgerly: ')).toBe(true);
  // Never upstream text: Ledgerly's own messages and envelope.
  expect(error?.message).not.toMatch(/the access token|too many requests|the cursor is|"status"/);
  return error;
}

const components = (reserved: string, pending: string) => [
  { kind: 'RESERVED', amount: reserved },
  { kind: 'PENDING', amount: pending },
];

/**
 * What the dashboard shows of the demo data. Minor units are divided exactly and printed without
 * trailing zeros, as the prepaid kind prints its scaled integers: 25000 at exponent 2 is "250".
 */
const EXPECTED_ACCOUNTS = [
  {
    upstreamId: 'lg_acc_1001',
    name: 'Operating',
    type: 'operating',
    status: 'open',
    suppressed: false,
    balances: [
      {
        currency: 'USD',
        network: null,
        total: '12345.67',
        available: '12045.67',
        components: components('250', '50'),
        depositAddresses: [],
        updatedAt: '2026-11-20T09:47:15.000Z',
      },
      {
        currency: 'EUR',
        network: null,
        total: '9007199254740993.01',
        available: '9007199254740993.01',
        components: components('0', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-19T12:00:00.000Z',
      },
      {
        currency: 'JPY',
        network: null,
        total: '123456789',
        available: '123456789',
        components: components('0', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-19T12:00:00.000Z',
      },
    ],
  },
  {
    upstreamId: 'lg_acc_1002',
    name: 'Crypto custody',
    type: 'custody',
    status: 'open',
    suppressed: false,
    balances: [
      {
        currency: 'ETH',
        network: 'ETH',
        total: '0.000000000000000001',
        available: '0.000000000000000001',
        components: components('0', '0'),
        depositAddresses: [
          { network: 'ETH', address: '0x52908400098527886E0F7030069857D2E4169EE7', memo: null },
        ],
        updatedAt: '2026-11-18T08:30:00.000Z',
      },
      {
        currency: 'USDT',
        network: 'TRX',
        total: '1000000000000000000.000001',
        available: '999999999999999999.999999',
        components: components('0.000002', '0'),
        depositAddresses: [
          { network: 'TRX', address: 'TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7', memo: '104882' },
        ],
        updatedAt: '2026-11-18T08:30:00.000Z',
      },
    ],
  },
  {
    upstreamId: 'lg_acc_1003',
    name: 'Petty cash HK',
    type: 'operating',
    status: 'open',
    suppressed: false,
    balances: [
      {
        currency: 'HKD',
        network: null,
        total: '0.1',
        available: '0.1',
        components: components('0', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-17T16:20:00.000Z',
      },
    ],
  },
  {
    upstreamId: 'lg_acc_1004',
    name: 'Credit line',
    type: 'credit',
    status: 'open',
    suppressed: false,
    balances: [
      {
        currency: 'USD',
        network: null,
        total: '-2500',
        available: '7500',
        components: components('0', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-20T00:00:00.000Z',
      },
      {
        currency: 'HKD',
        network: null,
        total: '0.2',
        available: '0.2',
        components: components('0', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-20T00:00:00.000Z',
      },
    ],
  },
  {
    upstreamId: 'lg_acc_1005',
    name: 'Frozen reserve',
    type: 'reserve',
    status: 'frozen',
    suppressed: false,
    balances: [
      {
        currency: 'KWD',
        network: null,
        total: '1.234',
        available: '0',
        components: components('1.234', '0'),
        depositAddresses: [],
        updatedAt: '2026-11-01T10:00:00.000Z',
      },
    ],
  },
  {
    upstreamId: 'lg_acc_1006',
    name: 'Closed EUR',
    type: 'operating',
    status: 'closed',
    suppressed: false,
    balances: [],
  },
];

describe('Ledgerly read through the demo rest configuration', () => {
  it('gives every account and position exactly, summed exactly across accounts and exponents', async () => {
    const current = await startLedgerly();
    const result = await query(current, DASHBOARD);
    expect(result.errors).toBeUndefined();
    expect(result.data?.providers).toEqual([
      { id: 'ledgerly', kind: 'REST', name: 'Ledgerly', accounts: EXPECTED_ACCOUNTS },
    ]);
    expect(result.data?.totals).toEqual({
      complete: true,
      missingProviders: [],
      currencies: [
        { currency: 'ETH', total: '0.000000000000000001', available: '0.000000000000000001' },
        { currency: 'EUR', total: '9007199254740993.01', available: '9007199254740993.01' },
        { currency: 'HKD', total: '0.3', available: '0.3' },
        { currency: 'JPY', total: '123456789', available: '123456789' },
        { currency: 'KWD', total: '1.234', available: '0' },
        { currency: 'USD', total: '9845.67', available: '19545.67' },
        {
          currency: 'USDT',
          total: '1000000000000000000.000001',
          available: '999999999999999999.999999',
        },
      ],
    });
  });

  it('logs in once with HTTP Basic and the scope, then walks three pages by cursor', async () => {
    const current = await startLedgerly();
    await query(current, DASHBOARD);
    const [login] = loginCalls(current.sandbox, 'rest');
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
    expect(login?.method).toBe('POST');
    expect(login?.headers.authorization).toBe(
      `Basic ${Buffer.from(`${LEDGERLY_DEMO_CREDENTIALS.clientId}:${SECRET}`).toString('base64')}`,
    );
    expect(new URLSearchParams(login?.body)).toEqual(
      new URLSearchParams({ grant_type: 'client_credentials', scope: 'balances:read' }),
    );
    const reads = balanceCalls(current.sandbox, 'rest');
    const [token] = simulatorOf(current).issuedTokens();
    expect(reads.map((call) => call.headers.authorization)).toEqual(
      Array(3).fill(`Bearer ${token?.token}`),
    );
    expect(reads.map((call) => call.query)).toEqual([
      { limit: '2' },
      { limit: '2', cursor: expect.stringMatching(/^cur-/) },
      { limit: '2', cursor: expect.stringMatching(/^cur-/) },
    ]);
    expect(
      simulatorOf(current)
        .answers()
        .map((answer) => answer.code),
    ).toEqual(Array(4).fill('OK'));
  });

  it("gives the position Ledgerly sent as raw, its integers' digits intact", async () => {
    const current = await startLedgerly();
    const result = await query(
      current,
      '{ provider(id: "ledgerly") { balances(currencies: ["USDT"]) { raw } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.provider).toEqual({
      balances: [
        {
          raw: {
            asset: { code: 'USDT', network: 'TRX' },
            exponent: '6',
            ledger: '1000000000000000000000001',
            available: '999999999999999999999999',
            reserved: '2',
            pending: '0',
            as_of: '2026-11-18T08:30:00Z',
            deposit_address: { address: 'TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7', memo: '104882' },
          },
        },
      ],
    });
  });

  it('asks Ledgerly for the wanted currencies only, in its currency parameter', async () => {
    const current = await startLedgerly();
    const result = await query(
      current,
      '{ provider(id: "ledgerly") { balances(currencies: ["hkd"]) { currency total account { upstreamId } } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.provider).toEqual({
      balances: [
        { currency: 'HKD', total: '0.1', account: { upstreamId: 'lg_acc_1003' } },
        { currency: 'HKD', total: '0.2', account: { upstreamId: 'lg_acc_1004' } },
      ],
    });
    expect(balanceCalls(current.sandbox, 'rest').map((call) => call.query)).toEqual([
      { limit: '2', currency: 'HKD' },
    ]);
  });
});

describe('one read per provider per request, one login per session', () => {
  it('reads Ledgerly once for a request that wants every currency in one place and HKD in another', async () => {
    const current = await startLedgerly();
    const result = await query(
      current,
      `{ providers { id accounts { upstreamId } }
         provider(id: "ledgerly") { balances(currencies: ["HKD"]) { total } }
         totals(currencies: ["USD"]) { currencies { currency total } } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.totals).toEqual({ currencies: [{ currency: 'USD', total: '9845.67' }] });
    // One walk of the listing, without a currency filter since one field wants every currency.
    expect(balanceCalls(current.sandbox, 'rest').map((call) => call.query)).toEqual([
      { limit: '2' },
      { limit: '2', cursor: expect.any(String) },
      { limit: '2', cursor: expect.any(String) },
    ]);
  });

  it('logs in once for concurrent requests, and reuses the token for later ones', async () => {
    const current = await startLedgerly();
    const results = await Promise.all([
      query(current, ACCOUNTS_ONLY),
      query(current, '{ totals { complete } }'),
      query(current, '{ provider(id: "ledgerly") { balances(currencies: ["JPY"]) { total } } }'),
    ]);
    for (const result of results) expect(result.errors).toBeUndefined();
    await query(current, ACCOUNTS_ONLY);
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
    expect(simulatorOf(current).issuedTokens()).toHaveLength(1);
  });
});

describe('docs/sandbox-rest.md', () => {
  it('shows the demo rest configuration as the demo tenant has it', () => {
    const page = readFileSync(new URL('../docs/sandbox-rest.md', import.meta.url), 'utf8');
    const block = /## Read by balance-api[\s\S]*?```json\n([\s\S]*?)\n```/.exec(page)?.[1];
    expect(block).toBeDefined();
    expect(JSON.parse(block ?? '')).toEqual(ledgerlyRestProvider('http://127.0.0.1:4010/rest'));
  });
});

describe('the expired-token code inside HTTP 200', () => {
  it('is answered by one new login and one retry of the same call', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    simulatorOf(current).expireTokens();
    current.sandbox.clearCalls();
    const result = await query(current, DASHBOARD);
    expect(result.errors).toBeUndefined();
    expect(result.data?.providers).toEqual([
      expect.objectContaining({ accounts: EXPECTED_ACCOUNTS }),
    ]);
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
    expect(
      simulatorOf(current)
        .answers()
        .slice(4)
        .map((answer) => [answer.path, answer.code]),
    ).toEqual([
      ['/v1/accounts', 'TOKEN_EXPIRED'],
      [LEDGERLY_TOKEN_PATH, 'OK'],
      ['/v1/accounts', 'OK'],
      ['/v1/accounts', 'OK'],
      ['/v1/accounts', 'OK'],
    ]);
    // The retry carries the new token.
    const tokens = simulatorOf(current).issuedTokens();
    expect(balanceCalls(current.sandbox, 'rest')[1]?.headers.authorization).toBe(
      `Bearer ${tokens[1]?.token}`,
    );
  });

  it('on a second page too: one new login, and the listing read to its end with the new token', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    current.sandbox.clearCalls();
    // The cached token is refused on the second page only.
    simulatorOf(current).failNext({ code: 'TOKEN_EXPIRED', after: 1 });
    const result = await query(current, DASHBOARD);
    expect(result.errors).toBeUndefined();
    expect(result.data?.providers).toEqual([
      expect.objectContaining({ accounts: EXPECTED_ACCOUNTS }),
    ]);
    const calls = current.sandbox.calls('rest');
    const login = calls.findIndex((call) => restSandbox.isLogin(call.path));
    expect(calls.filter((call) => restSandbox.isLogin(call.path))).toHaveLength(1);
    // Before the login: the first page, then the refused second one (a cursor).
    expect(calls.slice(0, login).map((call) => 'cursor' in call.query)).toEqual([false, true]);
    // After it: every read with the new token, the last page's cursor among them.
    const [, fresh] = simulatorOf(current).issuedTokens();
    const after = calls.slice(login + 1);
    expect(after.map((call) => call.headers.authorization)).toEqual(
      after.map(() => `Bearer ${fresh?.token}`),
    );
    expect(after.at(-1)?.query.cursor).toEqual(expect.any(String));
    expect(simulatorOf(current).answers().at(-1)?.code).toBe('OK');
  });

  it('fails UPSTREAM_AUTH_FAILED when it comes again after the new login: one re-login, never more', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    current.sandbox.clearCalls();
    simulatorOf(current).failNext({ code: 'TOKEN_EXPIRED', times: 5 });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(2);
  });

  it('is not answered by another login when the token it refuses was just issued', async () => {
    const current = await startLedgerly();
    simulatorOf(current).failNext({ code: 'TOKEN_EXPIRED' });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions?.code).toBe('UPSTREAM_AUTH_FAILED');
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(1);
  });

  it('comes from the sandbox fault auth-once too, recorded with it', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    current.sandbox.clearCalls();
    current.sandbox.setFault('rest', parseSandboxFault('auth-once'));
    const result = await query(current, ACCOUNTS_ONLY);
    expect(result.errors).toBeUndefined();
    expect(current.sandbox.calls('rest').map((call) => [call.path, call.fault])).toEqual([
      ['/v1/accounts', 'auth-once'],
      [LEDGERLY_TOKEN_PATH, undefined],
      ['/v1/accounts', undefined],
      ['/v1/accounts', undefined],
      ['/v1/accounts', undefined],
    ]);
  });

  it('TOKEN_INVALID (a revoked token) is answered the same way', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    simulatorOf(current).revokeTokens();
    const result = await query(current, ACCOUNTS_ONLY);
    expect(result.errors).toBeUndefined();
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(2);
  });

  it('never comes from a token balance-api renews before its expires_in', async () => {
    const current = await startLedgerly();
    await query(current, ACCOUNTS_ONLY);
    current.sandbox.clock.advance(3_550_000);
    const result = await query(current, ACCOUNTS_ONLY);
    expect(result.errors).toBeUndefined();
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(2);
    expect(
      simulatorOf(current)
        .answers()
        .map((answer) => answer.code),
    ).not.toContain('TOKEN_EXPIRED');
  });
});

describe("each fault's contract error", () => {
  it('RATE_LIMITED inside HTTP 200: UPSTREAM_RATE_LIMITED with its retry_after', async () => {
    const current = await startLedgerly();
    simulatorOf(current).failNext({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      providerId: 'ledgerly',
      retryable: true,
      retryAfterSeconds: 30,
    });
  });

  it("Ledgerly's own limit, reached on the third page: UPSTREAM_RATE_LIMITED, the window's rest", async () => {
    const current = await startLedgerly({
      data: ledgerlyData((data) => {
        data.rateLimit = { limit: 2, windowSeconds: 60 };
      }),
    });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      providerId: 'ledgerly',
      retryable: true,
      retryAfterSeconds: 60,
    });
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(3);
  });

  it('HTTP 429 with Retry-After at the edge (fault rate-limit): UPSTREAM_RATE_LIMITED', async () => {
    const current = await startLedgerly();
    current.sandbox.setFault('rest', parseSandboxFault('429:30'));
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      providerId: 'ledgerly',
      retryable: true,
      retryAfterSeconds: 30,
    });
  });

  it('a cursor Ledgerly no longer knows: UPSTREAM_BAD_RESPONSE', async () => {
    const current = await startLedgerly({
      data: ledgerlyData((data) => {
        data.cursorTtlSeconds = 0;
      }),
    });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(error?.message).toContain('the provider refused the cursor it handed out');
    expect(
      simulatorOf(current)
        .answers()
        .map((answer) => answer.code),
    ).toEqual(['OK', 'OK', 'INVALID_CURSOR']);
  });

  it.each([
    ['503', 'UPSTREAM_UNAVAILABLE', true],
    ['500', 'UPSTREAM_UNAVAILABLE', true],
  ])('HTTP %s (fault status): %s', async (spec, code, retryable) => {
    const current = await startLedgerly({ extra: { retry: { maxRetries: 1 } } });
    current.sandbox.setFault('rest', parseSandboxFault(spec));
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({ code, providerId: 'ledgerly', retryable });
  });

  it('a transient 503 on a page is retried, and the read completes', async () => {
    const current = await startLedgerly();
    simulatorOf(current).failNext({ code: 'UNAVAILABLE', httpStatus: 503, after: 1 });
    const result = await query(current, DASHBOARD);
    expect(result.errors).toBeUndefined();
    const reads = balanceCalls(current.sandbox, 'rest');
    expect(reads.map((call) => call.status)).toEqual([200, 503, 200, 200]);
    expect(reads[2]?.query).toEqual(reads[1]?.query);
  });

  it('a wrong client secret: UPSTREAM_AUTH_FAILED after one login, the secret nowhere', async () => {
    const current = await startLedgerly({
      extra: {
        credentials: { ...LEDGERLY_DEMO_CREDENTIALS, clientSecret: `${CANARY}-wrong-secret` },
      },
    });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(loginCalls(current.sandbox, 'rest').map((call) => call.status)).toEqual([401]);
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(0);
  });

  it('a token without balances:read: UPSTREAM_AUTH_FAILED in our words, no re-login', async () => {
    const current = await startLedgerly({ auth: { scope: 'payments:write' } });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_AUTH_FAILED',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(error?.message).toContain('the token was granted without the balances:read scope');
    expect(loginCalls(current.sandbox, 'rest')).toHaveLength(1);
  });

  it('client credentials in the form body (clientAuth body) read the same', async () => {
    const current = await startLedgerly({ auth: { clientAuth: 'body' } });
    const result = await query(current, ACCOUNTS_ONLY);
    expect(result.errors).toBeUndefined();
    const [login] = loginCalls(current.sandbox, 'rest');
    expect(login?.headers.authorization).toBeUndefined();
    expect(simulatorOf(current).issuedTokens()[0]?.clientAuth).toBe('body');
  });
});

describe('pagination bounds', () => {
  it('a listing of more pages than maxPages: UPSTREAM_BAD_RESPONSE, no page past the bound', async () => {
    const provider = ledgerlyRestProvider('unused');
    const current = await startLedgerly({
      extra: { pagination: { ...(provider.pagination as object), maxPages: 2 } },
    });
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(error?.message).toContain('maxPages (2)');
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(2);
  });

  it('a cursor handed back as the next one: UPSTREAM_BAD_RESPONSE, not a loop', async () => {
    const current = await startLedgerly();
    simulatorOf(current).loopCursors(true);
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      providerId: 'ledgerly',
      retryable: false,
    });
    expect(balanceCalls(current.sandbox, 'rest')).toHaveLength(2);
  });

  it("the read's deadline covers every page: pages within timeoutMs each, past it together", async () => {
    const current = await startLedgerly({ extra: { timeoutMs: 200, retry: { maxRetries: 0 } } });
    // Each page alone well within 200 ms; the three together not.
    simulatorOf(current).delayReads(90);
    const error = providerError(await query(current, ACCOUNTS_ONLY));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_TIMEOUT',
      providerId: 'ledgerly',
      retryable: true,
    });
    expect(balanceCalls(current.sandbox, 'rest').length).toBeLessThanOrEqual(3);
  });
});

describe('secrets', () => {
  it('no client secret and no access token in any response or log line of this file', async () => {
    // Its own reads first, a re-login and a rejected secret among them, so it proves something alone.
    const current = await startLedgerly();
    simulatorOf(current).failNext({ code: 'TOKEN_EXPIRED' });
    await query(current, DASHBOARD);
    simulatorOf(current).revokeTokens();
    simulatorOf(current).failNext({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
    await query(current, ACCOUNTS_ONLY);
    await current.close();
    app = undefined;
    await startLedgerly({
      extra: {
        credentials: { ...LEDGERLY_DEMO_CREDENTIALS, clientSecret: `${CANARY}-wrong-secret` },
      },
    }).then((rejected) => query(rejected, ACCOUNTS_ONLY));
    expect(logs.lines.some((line) => line.includes('ledgerly'))).toBe(true);
    for (const text of [...responses, ...logs.lines]) {
      expect(text).not.toContain(CANARY);
      expect(text).not.toMatch(/lgly_at-[0-9a-f]{32}/);
    }
  });
});
