import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderKind } from '../src/config.js';
import { generateOtp, parseOtpSecret } from '../src/providers/asset-accounts/totp.js';
import { createPrepaidSimulator } from '../src/providers/prepaid/index.js';
import { createMovableClock } from '../src/sandbox/clock.js';
import {
  createDemoConfigDocument,
  createDemoSandboxData,
  DEMO_CREDENTIALS,
  DEMO_WALLET_ID,
} from '../src/sandbox/demo.js';
import {
  formatSandboxFault,
  parseSandboxFault,
  parseSandboxFaultArgument,
  type SandboxFault,
  validateSandboxFault,
} from '../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { startSandboxServer } from '../src/sandbox/server.js';
import { balanceCalls, loginCalls, startTestApp } from './helpers/app.js';
import { startCommand } from './helpers/process.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP call over a real socket; the body is read in full. */
async function call(
  url: string,
  options: {
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
    headers?: Record<string, string>;
    body?: string;
    headersTimeout?: number;
  } = {},
): Promise<Answer> {
  const response = await request(url, {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.headersTimeout === undefined ? {} : { headersTimeout: options.headersTimeout }),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    text: await response.body.text(),
  };
}

function bodyOf(answer: Answer): unknown {
  return JSON.parse(answer.text);
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const BASIC_SMS = `Basic ${Buffer.from(
  `${DEMO_CREDENTIALS.prepaidSms.devKey}:${DEMO_CREDENTIALS.prepaidSms.devSecret}`,
).toString('base64')}`;

/** Logs in where the kind has a login, then reads its balances the way the contract says. */
function clientOf(sandbox: Sandbox) {
  const base = (kind: ProviderKind) => sandbox.baseUrl(kind);
  const otp = () => {
    const secret = parseOtpSecret(DEMO_CREDENTIALS.assetAccounts.otpSecret);
    if (secret === undefined) throw new Error('demo OTP seed is not base32');
    return generateOtp(secret, sandbox.clock.now());
  };
  return {
    pikLogin: () =>
      call(`${base('pik')}/api/v1/auth/token`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(DEMO_CREDENTIALS.pik),
      }),
    async pikToken(): Promise<string> {
      const answer = await this.pikLogin();
      return (bodyOf(answer) as { data: { accessToken: string } }).data.accessToken;
    },
    pikList: (token = 'none') =>
      call(`${base('pik')}/api/v1/balance/list`, { headers: { authorization: `Bearer ${token}` } }),
    async assetToken(): Promise<string> {
      const answer = await call(`${base('asset-accounts')}/api/v1/public/auth/login`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({
          username: DEMO_CREDENTIALS.assetAccounts.username,
          password: DEMO_CREDENTIALS.assetAccounts.password,
          otp: otp(),
        }),
      });
      return (bodyOf(answer) as { token: string }).token;
    },
    assetBalances: (token: string) =>
      call(`${base('asset-accounts')}/api/v1/customer/accounts/balances`, {
        headers: { authorization: `Bearer ${token}`, otp: otp() },
      }),
    async merchantToken(): Promise<string> {
      const answer = await call(`${base('merchant')}/v2/auth/session`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({
          ClientId: DEMO_CREDENTIALS.merchant.clientId,
          ClientSecret: DEMO_CREDENTIALS.merchant.clientSecret,
        }),
      });
      return (bodyOf(answer) as { ResponseData: { SessionToken: string } }).ResponseData
        .SessionToken;
    },
    merchantBalance: (token: string) =>
      call(`${base('merchant')}/v2/account/balance`, {
        headers: { authorization: `Bearer ${token}` },
      }),
    walletBalance: (assets?: string[]) =>
      call(`${base('wallet')}/v2/balance`, {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'x-api-key': DEMO_CREDENTIALS.wallet.apiKey },
        body: JSON.stringify({ walletId: DEMO_WALLET_ID, ...(assets ? { assets } : {}) }),
      }),
    prepaidBalance: () =>
      call(`${base('prepaid')}/v1/balance`, { headers: { authorization: BASIC_SMS } }),
  };
}

let sandbox: Sandbox;
let client: ReturnType<typeof clientOf>;
beforeEach(async () => {
  sandbox = await startSandbox();
  client = clientOf(sandbox);
});
afterEach(async () => {
  await sandbox.close();
});

describe('status faults', () => {
  it('answers 503 by default with the kind’s error body, every call, logins excluded', async () => {
    sandbox.setFault('pik', { type: 'status' });
    const token = await client.pikToken();
    for (let index = 0; index < 3; index += 1) {
      const answer = await client.pikList(token);
      expect(answer.status).toBe(503);
      expect(answer.headers['content-type']).toBe('application/json');
      expect(bodyOf(answer)).toEqual({ code: 503, message: 'Service Unavailable', data: null });
    }
    expect(sandbox.faults()).toEqual({ pik: { type: 'status', status: 503 } });
    expect(sandbox.calls('pik').map((call) => [call.path, call.status, call.fault])).toEqual([
      ['/api/v1/auth/token', 200, undefined],
      ['/api/v1/balance/list', 503, 'status'],
      ['/api/v1/balance/list', 503, 'status'],
      ['/api/v1/balance/list', 503, 'status'],
    ]);
  });

  it('shapes the error body as each contract does', async () => {
    for (const kind of ['asset-accounts', 'merchant', 'wallet', 'prepaid'] as const) {
      sandbox.setFault(kind, { type: 'status', status: 500 });
    }
    const merchant = await client.merchantBalance('any');
    expect([merchant.status, bodyOf(merchant)]).toEqual([
      500,
      { ResponseCode: 500, ResponseMessage: 'ServerError', ResponseData: null },
    ]);
    const assets = await client.assetBalances('any');
    expect([assets.status, bodyOf(assets)]).toEqual([500, { message: 'Internal Server Error' }]);
    const wallet = await client.walletBalance();
    expect([wallet.status, bodyOf(wallet)]).toEqual([500, { message: 'Internal Server Error' }]);
    const prepaid = await client.prepaidBalance();
    expect([prepaid.status, bodyOf(prepaid)]).toEqual([
      500,
      { code: 1000, message: 'internal error, retry later' },
    ]);
  });

  it('counts `times` down per affected call and then removes the fault', async () => {
    sandbox.setFault('prepaid', { type: 'status', status: 502, times: 2 });
    expect(sandbox.faults()).toEqual({ prepaid: { type: 'status', status: 502, times: 2 } });
    expect((await client.prepaidBalance()).status).toBe(502);
    expect(sandbox.faults()).toEqual({ prepaid: { type: 'status', status: 502, times: 1 } });
    expect((await client.prepaidBalance()).status).toBe(502);
    expect(sandbox.faults()).toEqual({});
    expect((await client.prepaidBalance()).status).toBe(200);
  });

  it('leaves logins alone unless includeLogin is set, and logins then count against `times`', async () => {
    sandbox.setFault('pik', { type: 'status', status: 503, times: 1 });
    expect((await client.pikLogin()).status).toBe(200);
    expect(sandbox.faults().pik?.times).toBe(1);

    sandbox.setFault('pik', { type: 'status', status: 503, times: 1, includeLogin: true });
    const login = await client.pikLogin();
    expect([login.status, bodyOf(login)]).toEqual([
      503,
      { code: 503, message: 'Service Unavailable', data: null },
    ]);
    expect(sandbox.faults()).toEqual({});
    expect((await client.pikLogin()).status).toBe(200);
  });

  it('affects only its own kind, and clearFaults removes every fault', async () => {
    sandbox.setFault('wallet', { type: 'status', status: 503 });
    sandbox.setFault('prepaid', { type: 'status', status: 504 });
    expect((await client.pikList()).status).toBe(401);
    expect((await client.walletBalance()).status).toBe(503);
    sandbox.setFault('wallet', undefined);
    expect(Object.keys(sandbox.faults())).toEqual(['prepaid']);
    expect((await client.walletBalance()).status).toBe(200);
    sandbox.clearFaults();
    expect(sandbox.faults()).toEqual({});
    expect((await client.prepaidBalance()).status).toBe(200);
  });
});

describe('connection faults', () => {
  it('hang: reads the request, never answers, and close() still finishes promptly', async () => {
    sandbox.setFault('pik', { type: 'hang' });
    await expect(
      request(`${sandbox.baseUrl('pik')}/api/v1/balance/list`, { headersTimeout: 200 }),
    ).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    // A client that never gives up is let go by close().
    const waiting = request(`${sandbox.baseUrl('pik')}/api/v1/balance/list`).then(
      () => 'answered',
      (error: { code?: string }) => error.code,
    );
    await waitFor(() => sandbox.calls('pik').length === 2);
    const started = Date.now();
    await sandbox.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await waiting).toBe('UND_ERR_SOCKET');
    expect(sandbox.calls('pik').map((call) => [call.status, call.fault])).toEqual([
      [0, 'hang'],
      [0, 'hang'],
    ]);
  });

  it('reset: destroys the connection without an answer', async () => {
    sandbox.setFault('asset-accounts', { type: 'reset', times: 1 });
    await expect(client.assetBalances('any')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sandbox.calls('asset-accounts').map((call) => [call.status, call.fault])).toEqual([
      [0, 'reset'],
    ]);
    expect((await client.assetBalances('any')).status).toBe(401);
  });

  it('truncated: promises a whole JSON body in content-length, sends half, then closes', async () => {
    sandbox.setFault('merchant', { type: 'truncated' });
    const response = await request(`${sandbox.baseUrl('merchant')}/v2/account/balance`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(Number(response.headers['content-length'])).toBeGreaterThan(40);
    await expect(response.body.text()).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(sandbox.calls('merchant').map((call) => [call.status, call.fault])).toEqual([
      [200, 'truncated'],
    ]);
  });

  it('invalid-json: 200, application/json, and a body that is not JSON', async () => {
    sandbox.setFault('wallet', { type: 'invalid-json', times: 1 });
    const answer = await client.walletBalance();
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(answer.text)).toThrow(SyntaxError);
    expect((await client.walletBalance()).status).toBe(200);
  });
});

describe('rate-limit faults', () => {
  it('answers 429 with Retry-After and the kind’s error body', async () => {
    sandbox.setFault('wallet', { type: 'rate-limit', retryAfterSeconds: 30 });
    const wallet = await client.walletBalance(['BTC']);
    expect(wallet.status).toBe(429);
    expect(wallet.headers['retry-after']).toBe('30');
    expect(bodyOf(wallet)).toEqual({ message: 'Too Many Requests' });

    sandbox.setFault('pik', { type: 'rate-limit' });
    const pik = await client.pikList();
    expect([pik.status, pik.headers['retry-after'], bodyOf(pik)]).toEqual([
      429,
      '1',
      { code: 429, message: 'Too Many Requests', data: null },
    ]);
    expect(sandbox.calls('wallet')[0]).toMatchObject({ status: 429, fault: 'rate-limit' });
  });
});

describe('auth-once faults', () => {
  it('pik: 401 "token expired" once, then the token works again', async () => {
    const token = await client.pikToken();
    sandbox.setFault('pik', { type: 'auth-once' });
    expect(sandbox.faults()).toEqual({ pik: { type: 'auth-once', times: 1 } });
    const rejected = await client.pikList(token);
    expect([rejected.status, bodyOf(rejected)]).toEqual([
      401,
      { code: 401, message: 'token expired', data: null },
    ]);
    expect(sandbox.faults()).toEqual({});
    expect((await client.pikList(token)).status).toBe(200);
  });

  it('asset-accounts: 401 {"message":...} once', async () => {
    const token = await client.assetToken();
    sandbox.setFault('asset-accounts', { type: 'auth-once' });
    const rejected = await client.assetBalances(token);
    expect([rejected.status, bodyOf(rejected)]).toEqual([
      401,
      { message: 'token expired or invalid' },
    ]);
    expect((await client.assetBalances(token)).status).toBe(200);
  });

  it('merchant: ResponseCode 401 as HTTP 401, or HTTP 200 in that mode', async () => {
    const token = await client.merchantToken();
    const unauthorized = { ResponseCode: 401, ResponseMessage: 'Unauthorized', ResponseData: null };
    sandbox.setFault('merchant', { type: 'auth-once' });
    const rejected = await client.merchantBalance(token);
    expect([rejected.status, bodyOf(rejected)]).toEqual([401, unauthorized]);
    expect((await client.merchantBalance(token)).status).toBe(200);

    sandbox.simulators.merchant.setAuthFailuresAsHttp200(true);
    sandbox.setFault('merchant', { type: 'auth-once' });
    const inEnvelope = await client.merchantBalance(token);
    expect([inEnvelope.status, bodyOf(inEnvelope)]).toEqual([200, unauthorized]);
    const after = await client.merchantBalance(token);
    expect((bodyOf(after) as { ResponseCode: number }).ResponseCode).toBe(200);
  });

  it('wallet: 401 {"message":"Unauthorized"} once', async () => {
    sandbox.setFault('wallet', { type: 'auth-once' });
    const rejected = await client.walletBalance();
    expect([rejected.status, bodyOf(rejected)]).toEqual([401, { message: 'Unauthorized' }]);
    expect((await client.walletBalance()).status).toBe(200);
  });

  it('prepaid: 401 {"code":2002,...} once', async () => {
    sandbox.setFault('prepaid', { type: 'auth-once' });
    const rejected = await client.prepaidBalance();
    expect([rejected.status, bodyOf(rejected)]).toEqual([
      401,
      { code: 2002, message: 'token expired or disabled' },
    ]);
    expect((await client.prepaidBalance()).status).toBe(200);
    expect(sandbox.calls('prepaid').map((call) => [call.status, call.fault])).toEqual([
      [401, 'auth-once'],
      [200, undefined],
    ]);
  });

  it('with includeLogin, rejects the login’s credentials the contract’s way', async () => {
    sandbox.setFault('pik', { type: 'auth-once', includeLogin: true });
    const login = await client.pikLogin();
    expect([login.status, bodyOf(login)]).toEqual([
      401,
      { code: 401, message: 'invalid credentials', data: null },
    ]);
    expect((await client.pikLogin()).status).toBe(200);
  });

  it('is recovered by balance-api with one re-login for every kind that has a login', async () => {
    const data = createDemoSandboxData();
    const credentials = { email: 'treasury@example.test', password: 'treasury-password' };
    data.wallet.wallets = data.wallet.wallets.map((wallet) => ({ ...wallet, ...credentials }));
    const app = await startTestApp({
      data,
      configDocument: (baseUrl) => {
        const document = createDemoConfigDocument(baseUrl);
        return {
          providers: document.providers.map((provider) =>
            provider.kind === 'wallet' ? { ...provider, credentials } : provider,
          ),
        };
      },
    });
    try {
      const query = '{ providers { id accounts { id } } }';
      // A 401 on a token just obtained is final by contract: reject a cached one.
      expect((await app.query(query)).errors).toBeUndefined();
      app.sandbox.clearCalls();
      const kinds = ['pik', 'asset-accounts', 'merchant', 'wallet'] as const;
      for (const kind of kinds) app.sandbox.setFault(kind, { type: 'auth-once' });
      const result = await app.query(query);
      expect(result.errors).toBeUndefined();
      expect(app.sandbox.faults()).toEqual({});
      for (const kind of kinds) {
        expect(loginCalls(app.sandbox, kind), kind).toHaveLength(1);
        expect(
          balanceCalls(app.sandbox, kind).map((call) => call.fault ?? call.status),
          kind,
        ).toEqual(['auth-once', 200]);
      }
    } finally {
      await app.close();
    }
  });
});

describe('the control endpoint', () => {
  const control = (path: string, options: Parameters<typeof call>[1] = {}) =>
    call(`${sandbox.controlUrl}${path}`, options);
  const put = (kind: string, body: string) =>
    control(`/faults/${kind}`, { method: 'PUT', headers: JSON_HEADERS, body });

  it('lists its routes and kinds at its root', async () => {
    expect(sandbox.controlUrl).toBe(`${sandbox.origin}/_sandbox`);
    const answer = await control('');
    expect(answer.status).toBe(200);
    expect(bodyOf(answer)).toMatchObject({
      kinds: ['pik', 'asset-accounts', 'merchant', 'wallet', 'prepaid'],
      routes: expect.arrayContaining([
        'PUT /_sandbox/faults/<kind>',
        'GET /_sandbox/calls[?kind=<kind>]',
      ]),
    });
  });

  it('sets, lists and clears faults', async () => {
    const set = await put('pik', '{"type":"status","status":502,"times":1}');
    expect([set.status, bodyOf(set)]).toEqual([
      200,
      { kind: 'pik', fault: { type: 'status', status: 502, times: 1 } },
    ]);
    const compact = await put('wallet', '"429:30x2"');
    expect(bodyOf(compact)).toEqual({
      kind: 'wallet',
      fault: { type: 'rate-limit', retryAfterSeconds: 30, times: 2 },
    });
    expect(bodyOf(await control('/faults'))).toEqual({
      faults: {
        pik: { type: 'status', status: 502, times: 1 },
        wallet: { type: 'rate-limit', retryAfterSeconds: 30, times: 2 },
      },
    });
    expect(sandbox.faults()).toEqual(
      (bodyOf(await control('/faults')) as { faults: unknown }).faults,
    );
    expect(bodyOf(await control('/faults/prepaid'))).toEqual({ kind: 'prepaid', fault: null });

    expect((await client.pikList()).status).toBe(502);
    expect((await client.pikList()).status).toBe(401);

    const removed = await control('/faults/wallet', { method: 'DELETE' });
    expect(bodyOf(removed)).toEqual({ kind: 'wallet', fault: null });
    expect((await client.walletBalance()).status).toBe(200);

    await put('prepaid', '{"type":"hang"}');
    await put('merchant', '"reset"');
    const cleared = await control('/faults', { method: 'DELETE' });
    expect([cleared.status, bodyOf(cleared)]).toEqual([200, { faults: {} }]);
    expect(sandbox.faults()).toEqual({});
  });

  it.each([
    [
      'an unknown kind',
      'ledger',
      '{"type":"hang"}',
      'no simulator of kind "ledger" on this sandbox; expected one of pik, asset-accounts, merchant, wallet, prepaid',
    ],
    [
      'a body that is not JSON',
      'pik',
      'type=hang',
      'expected a JSON body: a fault object such as {"type":"status","status":503}, or a compact fault such as "503x2"',
    ],
    [
      'an array',
      'pik',
      '[]',
      'fault: expected an object such as {"type":"status","status":503}, received an array',
    ],
    [
      'an unknown type',
      'pik',
      '{"type":"slow"}',
      'fault.type: expected one of status, hang, reset, truncated, invalid-json, rate-limit, auth-once; received "slow"',
    ],
    [
      'a status that is no error',
      'pik',
      '{"type":"status","status":200}',
      'fault.status: expected an integer HTTP status from 400 to 599, received 200',
    ],
    [
      'a status on another type',
      'pik',
      '{"type":"hang","status":500}',
      'fault.status: only a "status" fault has a status; this one is "hang"',
    ],
    [
      'zero times',
      'pik',
      '{"type":"reset","times":0}',
      'fault.times: expected a positive integer (omit it for unlimited), received 0',
    ],
    [
      'an unknown field',
      'pik',
      '{"type":"reset","delayMs":5}',
      'fault.delayMs: unknown field; expected only type, status, retryAfterSeconds, times, includeLogin',
    ],
    [
      'a bad compact fault',
      'pik',
      '"503x0"',
      'fault "503x0": expected a positive count after "x", received "0"',
    ],
  ])('answers 400 to %s, and keeps running', async (_, kind, body, message) => {
    const answer = await put(kind, body);
    expect([answer.status, bodyOf(answer)]).toEqual([400, { message }]);
    expect(sandbox.faults()).toEqual({});
    expect((await control('/faults')).status).toBe(200);
  });

  it('answers 405 to a wrong method and 404 to an unknown route', async () => {
    const wrongMethod = await control('/faults', { method: 'POST', body: '{}' });
    expect([wrongMethod.status, wrongMethod.headers.allow, bodyOf(wrongMethod)]).toEqual([
      405,
      'GET, DELETE',
      { message: 'method POST not allowed here; expected GET or DELETE' },
    ]);
    const unknown = await control('/latency');
    expect([unknown.status, bodyOf(unknown)]).toEqual([
      404,
      { message: 'no sandbox control route GET /_sandbox/latency; see GET /_sandbox' },
    ]);
    expect((await control('/calls?kind=ledger')).status).toBe(400);
  });

  it('shows the recorded calls with credentials redacted and no bodies, and clears them', async () => {
    const pikToken = await client.pikToken();
    await client.pikList(pikToken);
    const assetToken = await client.assetToken();
    await client.assetBalances(assetToken);
    await client.walletBalance();
    await client.prepaidBalance();
    await control('/faults');

    const answer = await control('/calls');
    expect(answer.status).toBe(200);
    for (const secret of [
      DEMO_CREDENTIALS.pik.appSecret,
      DEMO_CREDENTIALS.assetAccounts.password,
      DEMO_CREDENTIALS.wallet.apiKey,
      BASIC_SMS,
      pikToken,
      assetToken,
    ]) {
      expect(answer.text).not.toContain(secret);
    }
    const { calls } = bodyOf(answer) as {
      calls: { kind: string; path: string; status: number; headers: Record<string, string> }[];
    };
    // Control calls are not recorded: only the simulators' calls.
    expect(calls.map((call) => [call.kind, call.path, call.status])).toEqual([
      ['pik', '/api/v1/auth/token', 200],
      ['pik', '/api/v1/balance/list', 200],
      ['asset-accounts', '/api/v1/public/auth/login', 200],
      ['asset-accounts', '/api/v1/customer/accounts/balances', 200],
      ['wallet', '/v2/balance', 200],
      ['prepaid', '/v1/balance', 200],
    ]);
    for (const recorded of calls) expect(recorded).not.toHaveProperty('body');
    expect(calls[1]?.headers.authorization).toBe('[redacted]');
    expect(calls[3]?.headers.authorization).toBe('[redacted]');
    expect(calls[3]?.headers.otp).toBe('[redacted]');
    expect(calls[4]?.headers['x-api-key']).toBe('[redacted]');
    expect(calls[4]?.headers['content-type']).toBe('application/json');
    expect(calls[5]?.headers.authorization).toBe('[redacted]');
    // The test API still sees everything.
    expect(sandbox.calls('pik')[1]?.headers.authorization).toBe(`Bearer ${pikToken}`);

    const wallet = bodyOf(await control('/calls?kind=wallet')) as { calls: unknown[] };
    expect(wallet.calls).toHaveLength(1);
    const removed = await control('/calls?kind=pik', { method: 'DELETE' });
    expect(bodyOf(removed)).toEqual({ removed: 2 });
    expect(sandbox.calls()).toHaveLength(4);
    expect(bodyOf(await control('/calls', { method: 'DELETE' }))).toEqual({ removed: 4 });
    expect(sandbox.calls()).toEqual([]);
  });
});

describe('faults given as values', () => {
  it('setFault rejects an invalid fault with the same messages', () => {
    expect(() => sandbox.setFault('pik', { type: 'rate-limit', retryAfterSeconds: -1 })).toThrow(
      'fault.retryAfterSeconds: expected a whole number of seconds, 0 or more, received -1',
    );
    expect(() =>
      sandbox.setFault('pik', { type: 'hang', includeLogin: 'yes' } as unknown as SandboxFault),
    ).toThrow('fault.includeLogin: expected true or false, received "yes"');
    expect(sandbox.faults()).toEqual({});
  });

  it('setFault rejects a kind the sandbox does not mount', async () => {
    const clock = createMovableClock();
    const server = await startSandboxServer({
      simulators: [createPrepaidSimulator({ merchants: [] })],
      clock,
    });
    try {
      expect(() => server.setFault('pik', { type: 'hang' })).toThrow(
        'no simulator of kind "pik" on this sandbox; it has prepaid',
      );
    } finally {
      await server.close();
    }
  });

  it('startSandbox takes faults to start with', async () => {
    const faulty = await startSandbox({ faults: { prepaid: { type: 'status', status: 503 } } });
    try {
      expect(faulty.faults()).toEqual({ prepaid: { type: 'status', status: 503 } });
      expect((await clientOf(faulty).prepaidBalance()).status).toBe(503);
    } finally {
      await faulty.close();
    }
  });

  it('fills in the defaults of each type', () => {
    expect(validateSandboxFault({ type: 'status' })).toEqual({ type: 'status', status: 503 });
    expect(validateSandboxFault({ type: 'rate-limit' })).toEqual({
      type: 'rate-limit',
      retryAfterSeconds: 1,
    });
    expect(validateSandboxFault({ type: 'auth-once' })).toEqual({ type: 'auth-once', times: 1 });
    expect(validateSandboxFault({ type: 'hang', includeLogin: false })).toEqual({ type: 'hang' });
  });
});

describe('the compact fault syntax of --fault', () => {
  it.each<[string, ProviderKind, SandboxFault]>([
    ['pik=hang', 'pik', { type: 'hang' }],
    ['wallet=429:30', 'wallet', { type: 'rate-limit', retryAfterSeconds: 30 }],
    ['wallet=429', 'wallet', { type: 'rate-limit', retryAfterSeconds: 1 }],
    ['wallet=rate-limit:5x3', 'wallet', { type: 'rate-limit', retryAfterSeconds: 5, times: 3 }],
    ['merchant=503', 'merchant', { type: 'status', status: 503 }],
    ['prepaid=503x2', 'prepaid', { type: 'status', status: 503, times: 2 }],
    ['asset-accounts=reset', 'asset-accounts', { type: 'reset' }],
    ['pik=truncated', 'pik', { type: 'truncated' }],
    ['pik=invalid-json', 'pik', { type: 'invalid-json' }],
    ['merchant=auth-once', 'merchant', { type: 'auth-once', times: 1 }],
    ['pik=auth-once+login', 'pik', { type: 'auth-once', times: 1, includeLogin: true }],
    ['pik=500x1+login', 'pik', { type: 'status', status: 500, times: 1, includeLogin: true }],
  ])('reads %s', (text, kind, fault) => {
    expect(parseSandboxFaultArgument(text)).toEqual({ kind, fault });
    // And writes it back the same way, defaults aside.
    expect(parseSandboxFault(formatSandboxFault(fault))).toEqual(fault);
  });

  it.each([
    ['pik', 'expected KIND=FAULT such as pik=503, received "pik"'],
    [
      'ledger=503',
      '"ledger=503": unknown kind "ledger"; expected one of pik, asset-accounts, merchant, wallet, prepaid',
    ],
    [
      'pik=',
      '"pik=": expected a fault: a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, truncated, invalid-json or auth-once, optionally followed by xN (N calls) and +login',
    ],
    [
      'pik=slow',
      '"pik=slow": unknown fault; expected a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, truncated, invalid-json or auth-once, optionally followed by xN (N calls) and +login',
    ],
    ['pik=200', '"pik=200": status 200 is not an error; expected a status from 400 to 599'],
    ['pik=600x2', '"pik=600x2": status 600 is not an error; expected a status from 400 to 599'],
    ['pik=503x0', '"pik=503x0": expected a positive count after "x", received "0"'],
    ['pik=hangxtwo', '"pik=hangxtwo": expected a positive count after "x", received "two"'],
    [
      'wallet=429:soon',
      '"wallet=429:soon": expected Retry-After as whole seconds after ":", received "soon"',
    ],
    [
      'pik=503+retry',
      '"pik=503+retry": "+retry" is not a modifier; the only one is +login, at the end',
    ],
  ])('rejects %s', (text, message) => {
    expect(() => parseSandboxFaultArgument(text)).toThrow(message);
  });
});

describe('balance-api sandbox --fault', () => {
  it('starts with the faults given and prints a control URL that works', async () => {
    const run = startCommand([
      'sandbox',
      '--port',
      '0',
      '--fault',
      'pik=503',
      '--fault',
      'wallet=429:30',
    ]);
    try {
      const [, controlUrl] = await run.waitForOutput(/control: (http:\/\/\S+)/);
      const [, pikUrl] = await run.waitForOutput(/pik: (http:\/\/\S+)/);
      expect(run.stdout()).toContain('  fault pik=503\n');
      expect(run.stdout()).toContain('  fault wallet=429:30\n');

      const list = await call(`${pikUrl}/api/v1/balance/list`);
      expect([list.status, bodyOf(list)]).toEqual([
        503,
        { code: 503, message: 'Service Unavailable', data: null },
      ]);
      expect(bodyOf(await call(`${controlUrl}/faults`))).toEqual({
        faults: {
          pik: { type: 'status', status: 503 },
          wallet: { type: 'rate-limit', retryAfterSeconds: 30 },
        },
      });
      const cleared = await call(`${controlUrl}/faults/pik`, { method: 'DELETE' });
      expect(cleared.status).toBe(200);
      expect((await call(`${pikUrl}/api/v1/balance/list`)).status).toBe(401);
      const calls = bodyOf(await call(`${controlUrl}/calls?kind=pik`)) as { calls: unknown[] };
      expect(calls.calls).toHaveLength(2);
    } finally {
      await run.stop();
    }
  });

  it('rejects a bad --fault with the usage', async () => {
    const run = startCommand(['sandbox', '--port', '0', '--fault', 'pik=503x0']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      'balance-api: --fault "pik=503x0": expected a positive count after "x", received "0"',
    );
    expect(run.stderr()).toContain('Usage: balance-api');
  });

  it('rejects two faults for one kind', async () => {
    const run = startCommand([
      'sandbox',
      '--port',
      '0',
      '--fault',
      'pik=503',
      '--fault',
      'pik=hang',
    ]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain(
      'balance-api: --fault "pik=hang": pik already has a fault; give one per kind',
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
