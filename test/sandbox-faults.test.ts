import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateOtp, parseOtpSecret } from '../src/providers/asset-accounts/totp.js';
import { PROVIDER_KINDS, type ProviderKind } from '../src/providers/kinds.js';
import { createPrepaidSimulator } from '../src/providers/prepaid/sandbox.js';
import { createMovableClock } from '../src/sandbox/clock.js';
import { createDemoSandboxData, DEMO_CREDENTIALS, DEMO_WALLET_ID } from '../src/sandbox/demo.js';
import {
  formatSandboxFault,
  parseSandboxFault,
  parseSandboxFaultArgument,
  SANDBOX_BAD_TOKEN,
  SANDBOX_DUPLICATE_KEY,
  type SandboxFault,
  sandboxLongToken,
  validateSandboxFault,
} from '../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { startSandboxServer } from '../src/sandbox/server.js';
import { balanceCalls, demoConfigDocument, loginCalls, startTestApp } from './helpers/app.js';
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
        const document = demoConfigDocument(baseUrl);
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

describe('hostile answers', () => {
  const lossless = (text: string) => parseLossless(text) as Record<string, unknown>;

  it('huge-amount: the kind’s own successful answer with every amount a raw JSON number 1e9000000', async () => {
    for (const kind of ['pik', 'asset-accounts', 'merchant', 'wallet', 'prepaid'] as const) {
      sandbox.setFault(kind, parseSandboxFault('huge-amount'));
    }
    const answers = {
      pik: await client.pikList(await client.pikToken()),
      'asset-accounts': await client.assetBalances(await client.assetToken()),
      merchant: await client.merchantBalance(await client.merchantToken()),
      wallet: await client.walletBalance(),
      prepaid: await client.prepaidBalance(),
    };
    const amountsOf: Record<keyof typeof answers, [string, number]> = {
      // [an amount field, how many amount fields the answer holds]
      pik: ['balance', 4 * 4],
      'asset-accounts': ['totalBalance', 3 * 3],
      merchant: ['Balance', 2 * 3],
      wallet: ['balance', 4 * 4],
      prepaid: ['total_balance10000', 6],
    };
    for (const [kind, answer] of Object.entries(answers) as [keyof typeof answers, Answer][]) {
      const [field, count] = amountsOf[kind];
      expect(answer.status, kind).toBe(200);
      // Raw number tokens, never strings, wherever an amount was (strings included).
      expect(answer.text.match(/:1e9000000[,}]/g), kind).toHaveLength(count);
      expect(answer.text, kind).not.toContain('"1e9000000"');
      const body = lossless(answer.text);
      const records = (body.data ?? body.details ?? body.ResponseData ?? [body]) as Record<
        string,
        unknown
      >[];
      expect(isLosslessNumber(records[0]?.[field]), kind).toBe(true);
      expect(String(records[0]?.[field]), kind).toBe('1e9000000');
    }
    // Everything else is the normal answer.
    expect((lossless(answers.pik.text).data as { currencyCode: string }[])[0]?.currencyCode).toBe(
      'USD',
    );
    // Only a success is altered; the fault counts every call it meets, as the others do.
    const rejected = await client.pikList('no-such-token');
    expect([rejected.status, bodyOf(rejected)]).toEqual([
      401,
      { code: 401, message: 'token expired', data: null },
    ]);
    expect(sandbox.calls('pik').map((call) => [call.status, call.fault])).toEqual([
      [200, undefined],
      [200, 'huge-amount'],
      [401, 'huge-amount'],
    ]);
  });

  it('duplicate-key: the successful answer repeats a 10 KB key at the top level with two values', async () => {
    const token = await client.pikToken();
    const normal = bodyOf(await client.pikList(token)) as Record<string, unknown>;
    sandbox.setFault('pik', parseSandboxFault('duplicate-keyx1'));
    const answer = await client.pikList(token);
    expect(answer.status).toBe(200);
    expect(SANDBOX_DUPLICATE_KEY.length).toBeGreaterThanOrEqual(10 * 1024);
    const key = JSON.stringify(SANDBOX_DUPLICATE_KEY);
    expect(answer.text.startsWith(`{${key}:"first",${key}:"second",`)).toBe(true);
    // A lenient parser keeps the last value; the rest is the normal answer.
    expect(bodyOf(answer)).toEqual({ [SANDBOX_DUPLICATE_KEY]: 'second', ...normal });
    expect(() => parseLossless(answer.text)).toThrow(/Duplicate key/);
    expect(sandbox.faults()).toEqual({});
  });

  it('reset-body: 200, its headers and part of its body, then a TCP reset', async () => {
    sandbox.setFault('wallet', parseSandboxFault('reset-bodyx1'));
    const response = await request(`${sandbox.baseUrl('wallet')}/v2/balance`, { method: 'POST' });
    expect(response.statusCode).toBe(200);
    expect(Number(response.headers['content-length'])).toBeGreaterThan(40);
    await expect(response.body.text()).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sandbox.calls('wallet').map((call) => [call.status, call.fault])).toEqual([
      [200, 'reset-body'],
    ]);
    expect((await client.walletBalance()).status).toBe(200);
  });

  it('bad-token and long-token: a login succeeds with a token that cannot be sent; reads are untouched and not counted', async () => {
    sandbox.setFault('pik', parseSandboxFault('bad-tokenx2'));
    const token = await client.pikToken();
    expect(token).toBe(SANDBOX_BAD_TOKEN);
    expect(token).toMatch(/\r\n/);
    expect(sandbox.faults()).toEqual({ pik: { type: 'bad-token', times: 1 } });
    expect((await client.pikList('none')).status).toBe(401);
    expect(sandbox.faults()).toEqual({ pik: { type: 'bad-token', times: 1 } });

    sandbox.setFault('merchant', parseSandboxFault('long-token'));
    const long = await client.merchantToken();
    expect(long).toHaveLength(20_000);
    expect(long).toBe(sandboxLongToken(20_000));
    expect(long).toMatch(/^[\x21-\x7e]+$/);
    sandbox.setFault('asset-accounts', parseSandboxFault('long-token:300'));
    expect(await client.assetToken()).toBe(sandboxLongToken(300));
    expect(sandbox.calls().map((call) => [call.kind, call.status, call.fault])).toEqual([
      ['pik', 200, 'bad-token'],
      ['pik', 401, undefined],
      ['merchant', 200, 'long-token'],
      ['asset-accounts', 200, 'long-token'],
    ]);
  });

  it('long-token: the sandbox answers 431 to a request that carries it in a header', async () => {
    const answer = await client.pikList(sandboxLongToken(20_000));
    expect(answer.status).toBe(431);
  });

  it('token faults apply to the wallet’s login too, and not to kinds without one', async () => {
    const data = createDemoSandboxData();
    const credentials = { email: 'treasury@example.test', password: 'treasury-password' };
    data.wallet.wallets = data.wallet.wallets.map((wallet) => ({ ...wallet, ...credentials }));
    const withLogin = await startSandbox({ data });
    try {
      withLogin.setFault('wallet', parseSandboxFault('bad-token'));
      const login = await call(`${withLogin.baseUrl('wallet')}/v2/auth/login`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify(credentials),
      });
      expect(login.status).toBe(200);
      expect(bodyOf(login)).toMatchObject({
        data: { accessToken: SANDBOX_BAD_TOKEN, expiresIn: 900 },
      });
      // A refused login is passed through as it is.
      const refused = await call(`${withLogin.baseUrl('wallet')}/v2/auth/login`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ ...credentials, password: 'wrong' }),
      });
      expect([refused.status, bodyOf(refused)]).toEqual([401, { message: 'Unauthorized' }]);
    } finally {
      await withLogin.close();
    }
    // The kinds that log in are those whose simulator says where its login's token is.
    const loginKinds = PROVIDER_KINDS.filter(
      (kind) => sandbox.simulators[kind].loginTokenPath !== undefined,
    );
    expect(loginKinds.slice(0, 4)).toEqual(['pik', 'asset-accounts', 'merchant', 'wallet']);
    expect(() => sandbox.setFault('prepaid', { type: 'bad-token' })).toThrow(
      `a "bad-token" fault needs a kind that logs in (${loginKinds.join(', ')}); prepaid has no login`,
    );
  });

  it('rate-limit: a Retry-After beyond any number, or one that is not a number, is sent as it is', async () => {
    sandbox.setFault('pik', parseSandboxFault('429:99999999999999999999999'));
    expect(sandbox.faults()).toEqual({
      pik: { type: 'rate-limit', retryAfter: '99999999999999999999999' },
    });
    const huge = await client.pikList();
    expect([huge.status, huge.headers['retry-after']]).toEqual([429, '99999999999999999999999']);
    sandbox.setFault('pik', { type: 'rate-limit', retryAfter: '1e400' });
    expect((await client.pikList()).headers['retry-after']).toBe('1e400');
  });

  it('merchant rotations can hand out a token of the test’s choosing', async () => {
    sandbox.simulators.merchant.setSessionTtlSeconds(60);
    const token = await client.merchantToken();
    sandbox.simulators.merchant.rotateWith('rotated\tcanary');
    const rotated = await client.merchantBalance(token);
    expect(rotated.headers['x-refresh-token']).toBe('rotated\tcanary');
    expect(() => sandbox.simulators.merchant.rotateWith('a\r\nb')).toThrow(
      'rotateWith: expected a value an HTTP header can carry (no CR, LF or other control character but tab)',
    );
    sandbox.simulators.merchant.rotateWith(undefined);
    const fresh = await client.merchantBalance(token);
    expect(fresh.headers['x-refresh-token']).toMatch(/^merchant-[0-9a-f]{32}$/);
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
      kinds: [...PROVIDER_KINDS],
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
      `no simulator of kind "ledger" on this sandbox; expected one of ${PROVIDER_KINDS.join(', ')}`,
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
      'fault.type: expected one of status, hang, reset, truncated, invalid-json, rate-limit, auth-once, reset-body, huge-amount, duplicate-key, bad-token, long-token; received "slow"',
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
      'fault.delayMs: unknown field; expected only type, status, retryAfterSeconds, retryAfter, tokenLength, times, includeLogin',
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
    expect(() =>
      sandbox.setFault('pik', { type: 'rate-limit', retryAfter: '30', retryAfterSeconds: 30 }),
    ).toThrow('fault.retryAfter: give either retryAfter or retryAfterSeconds, not both');
    expect(() => sandbox.setFault('pik', { type: 'rate-limit', retryAfter: 'a\r\nb' })).toThrow(
      'fault.retryAfter: expected a header value of 1 to 1000 printable ASCII characters, received a string with other characters',
    );
    expect(() => sandbox.setFault('pik', { type: 'hang', retryAfter: '1' })).toThrow(
      'fault.retryAfter: only a "rate-limit" fault has a Retry-After; this one is "hang"',
    );
    expect(() => sandbox.setFault('pik', { type: 'hang', tokenLength: 5 })).toThrow(
      'fault.tokenLength: only a "long-token" fault has a token length; this one is "hang"',
    );
    expect(() => sandbox.setFault('pik', { type: 'long-token', tokenLength: 0 })).toThrow(
      'fault.tokenLength: expected a whole number of characters from 1 to 1048576, received 0',
    );
    expect(() => sandbox.setFault('pik', { type: 'bad-token', includeLogin: true })).toThrow(
      'fault.includeLogin: a "bad-token" fault applies to logins, and only to them; drop includeLogin',
    );
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
    expect(validateSandboxFault({ type: 'long-token' })).toEqual({
      type: 'long-token',
      tokenLength: 20_000,
    });
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
    ['pik=reset-body', 'pik', { type: 'reset-body' }],
    ['wallet=huge-amountx2', 'wallet', { type: 'huge-amount', times: 2 }],
    ['merchant=duplicate-key+login', 'merchant', { type: 'duplicate-key', includeLogin: true }],
    ['pik=bad-token', 'pik', { type: 'bad-token' }],
    ['merchant=long-token', 'merchant', { type: 'long-token', tokenLength: 20_000 }],
    ['merchant=long-token:9000x2', 'merchant', { type: 'long-token', tokenLength: 9000, times: 2 }],
    [
      'pik=429:99999999999999999999999',
      'pik',
      { type: 'rate-limit', retryAfter: '99999999999999999999999' },
    ],
  ])('reads %s', (text, kind, fault) => {
    expect(parseSandboxFaultArgument(text)).toEqual({ kind, fault });
    // And writes it back the same way, defaults aside.
    expect(parseSandboxFault(formatSandboxFault(fault))).toEqual(fault);
  });

  it.each([
    ['pik', 'expected KIND=FAULT such as pik=503, received "pik"'],
    [
      'ledger=503',
      `"ledger=503": unknown kind "ledger"; expected one of ${PROVIDER_KINDS.join(', ')}`,
    ],
    [
      'pik=',
      '"pik=": expected a fault: a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, reset-body, truncated, invalid-json, huge-amount, duplicate-key, auth-once, bad-token or long-token[:LENGTH], optionally followed by xN (N calls) and +login',
    ],
    [
      'pik=slow',
      '"pik=slow": unknown fault; expected a status from 400 to 599, 429[:SECONDS], rate-limit[:SECONDS], hang, reset, reset-body, truncated, invalid-json, huge-amount, duplicate-key, auth-once, bad-token or long-token[:LENGTH], optionally followed by xN (N calls) and +login',
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
      'pik=bad-token+login',
      '"pik=bad-token+login": a "bad-token" fault applies to logins, and only to them; drop +login',
    ],
    [
      'pik=long-token:0',
      '"pik=long-token:0": expected the token length as whole characters after ":", received "0"',
    ],
    [
      'pik=long-token:big',
      '"pik=long-token:big": expected the token length as whole characters after ":", received "big"',
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
