import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Decimal } from '../src/money.js';
import { LEDGERLY_DEMO_CREDENTIALS } from '../src/providers/rest/demo.js';
import {
  LEDGERLY_ACCOUNTS_PATH,
  LEDGERLY_TOKEN_PATH,
  type LedgerlySimulator,
  restSandbox,
} from '../src/providers/rest/sandbox.js';
import { createMovableClock, type MovableClock } from '../src/sandbox/clock.js';
import { SANDBOX_HUGE_AMOUNT } from '../src/sandbox/faults.js';
import { type SandboxServer, startSandboxServer } from '../src/sandbox/server.js';

/**
 * Ledgerly, the rest kind's simulator, over real loopback sockets: its OAuth2 token endpoint
 * (RFC 6749 §4.4), its expired and rejected tokens, its cursor pagination over accounts that hold
 * positions, its errors inside HTTP 200, the sandbox faults it answers in its own way, and the
 * calls the sandbox records.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, read field by field by the tests.
  body: any;
}

const { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } = LEDGERLY_DEMO_CREDENTIALS;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const TTL_MS = 3_600_000;

let clock: MovableClock;
let simulator: LedgerlySimulator;
let server: SandboxServer;

beforeEach(async () => {
  // Still but for advance(), so a token's last millisecond is a millisecond.
  clock = createMovableClock(() => Date.UTC(2026, 11, 1));
  const data = restSandbox.demoData();
  // A second client, whose secret needs the form encoding of RFC 6749 §2.3.1 in HTTP Basic.
  data.clients.push({
    clientId: 'other client',
    clientSecret: 'p@ss:w0rd+/%',
    scopes: ['balances:read', 'payments:write'],
    accounts: [
      { id: 'other-1', name: 'Other', type: 'operating', state: 'open', positions: [] },
      { id: 'other-2', name: 'Other 2', type: 'operating', state: 'open', positions: [] },
      { id: 'other-3', name: 'Other 3', type: 'operating', state: 'open', positions: [] },
    ],
  });
  simulator = restSandbox.createSimulator(data, clock);
  server = await startSandboxServer({ simulators: [simulator], clock });
});

afterEach(async () => {
  await server.close();
});

function url(path: string): string {
  return `${server.baseUrl('rest')}${path}`;
}

async function call(
  path: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await request(url(path), {
    method: options.method ?? 'GET',
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  const text = await response.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, body };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

/** RFC 6749 §2.3.1: each part form-urlencoded, then joined and base64-encoded. */
function formEncoded(text: string): string {
  return new URLSearchParams({ x: text }).toString().slice(2);
}

async function login(scope?: string): Promise<string> {
  const answer = await call(LEDGERLY_TOKEN_PATH, {
    method: 'POST',
    headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      ...(scope === undefined ? {} : { scope }),
    }).toString(),
  });
  expect(answer.status).toBe(200);
  return answer.body.access_token as string;
}

function accounts(token: string | undefined, query = ''): Promise<Answer> {
  return call(`${LEDGERLY_ACCOUNTS_PATH}${query}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

/** The envelope error of an HTTP 200 answer. */
function envelopeError(answer: Answer) {
  expect(answer.status).toBe(200);
  expect(answer.body.status).toBe('error');
  return answer.body.error;
}

/** Every page of a listing, following `next_cursor` until it is null. */
async function walk(token: string, query: Record<string, string> = {}) {
  const pages: Answer[] = [];
  let cursor: string | null = null;
  do {
    const params = new URLSearchParams(query);
    if (cursor !== null) params.set('cursor', cursor);
    const text = params.toString();
    const page = await accounts(token, text === '' ? '' : `?${text}`);
    expect(page.status).toBe(200);
    expect(page.body.status).toBe('ok');
    pages.push(page);
    cursor = page.body.page.next_cursor;
    expect(page.body.page.has_more).toBe(cursor !== null);
  } while (cursor !== null && pages.length < 20);
  return pages;
}

describe('the token endpoint (RFC 6749 §4.4)', () => {
  it('grants a bearer token to HTTP Basic client credentials, with every scope the client holds', async () => {
    const answer = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers.pragma).toBe('no-cache');
    expect(answer.body).toEqual({
      access_token: expect.stringMatching(/^lgly_at-[0-9a-f]{32}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'balances:read payments:write',
    });
    expect(simulator.issuedTokens()).toEqual([
      {
        token: answer.body.access_token,
        clientId: CLIENT_ID,
        scope: 'balances:read payments:write',
        clientAuth: 'basic',
        expiresAt: expect.any(Number),
      },
    ]);
  });

  it('grants one to credentials in the form body, narrowed to the scope asked for', async () => {
    const answer = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        scope: 'balances:read',
      }).toString(),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('balances:read');
    expect(simulator.issuedTokens()[0]?.clientAuth).toBe('body');
    expect((await accounts(answer.body.access_token)).body.status).toBe('ok');
  });

  it('reads HTTP Basic credentials form-urlencoded, as RFC 6749 §2.3.1 says', async () => {
    const encoded = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: {
        ...FORM,
        authorization: basic(formEncoded('other client'), formEncoded('p@ss:w0rd+/%')),
      },
      body: 'grant_type=client_credentials',
    });
    expect(encoded.status).toBe(200);
    // The same secret sent without the form encoding is another secret ('%' does not decode).
    const raw = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic('other client', 'p@ss:w0rd+/%') },
      body: 'grant_type=client_credentials',
    });
    expect(raw.status).toBe(401);
    expect(raw.body.error).toBe('invalid_client');
  });

  it.each([
    ['a wrong secret in HTTP Basic', { authorization: basic(CLIENT_ID, 'wrong') }, '', true],
    [
      'an unknown client in HTTP Basic',
      { authorization: basic('nobody', CLIENT_SECRET) },
      '',
      true,
    ],
    [
      'a Basic header that is not base64 of id:secret',
      { authorization: 'Basic bm9jb2xvbg==' },
      '',
      true,
    ],
    ['a bearer token instead of client credentials', { authorization: 'Bearer x' }, '', true],
    ['a wrong secret in the body', {}, `&client_id=${CLIENT_ID}&client_secret=wrong`, false],
    ['a client id without its secret', {}, `&client_id=${CLIENT_ID}`, false],
    ['no client credentials at all', {}, '', false],
  ])('answers %s with 401 invalid_client', async (_name, headers, extra, challenged) => {
    const answer = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, ...headers },
      body: `grant_type=client_credentials${extra}`,
    });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({
      error: 'invalid_client',
      error_description: 'client authentication failed',
    });
    // RFC 6749 §5.2: a failed Basic authentication is challenged.
    expect(answer.headers['www-authenticate']).toBe(
      challenged ? 'Basic realm="ledgerly"' : undefined,
    );
    expect(simulator.issuedTokens()).toEqual([]);
  });

  it.each([
    [
      'credentials both in HTTP Basic and in the body',
      { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      `grant_type=client_credentials&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`,
      400,
      'invalid_request',
    ],
    [
      'a JSON body',
      { 'content-type': 'application/json', authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      '{"grant_type":"client_credentials"}',
      400,
      'invalid_request',
    ],
    [
      'no grant_type',
      { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      'scope=balances%3Aread',
      400,
      'invalid_request',
    ],
    [
      'a repeated parameter',
      { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      'grant_type=client_credentials&grant_type=client_credentials',
      400,
      'invalid_request',
    ],
    [
      'the password grant',
      { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      'grant_type=password&username=a&password=b',
      400,
      'unsupported_grant_type',
    ],
    [
      'a scope the client does not hold',
      { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      'grant_type=client_credentials&scope=balances%3Aread%20admin',
      400,
      'invalid_scope',
    ],
  ])('refuses %s', async (_name, headers, body, status, error) => {
    const answer = await call(LEDGERLY_TOKEN_PATH, { method: 'POST', headers, body });
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(simulator.issuedTokens()).toEqual([]);
  });

  it('takes POST only', async () => {
    const answer = await call(LEDGERLY_TOKEN_PATH);
    expect(answer.status).toBe(405);
    expect(answer.body.error).toBe('invalid_request');
  });
});

describe('tokens on the accounts endpoint', () => {
  it('reads with a fresh token until the last millisecond of expires_in', async () => {
    const token = await login();
    clock.advance(TTL_MS - 1);
    expect((await accounts(token)).body.status).toBe('ok');
  });

  it('answers an expired token with TOKEN_EXPIRED inside HTTP 200, until a new login', async () => {
    const token = await login();
    clock.advance(TTL_MS);
    expect(envelopeError(await accounts(token))).toEqual({
      code: 'TOKEN_EXPIRED',
      message: 'the access token has expired',
    });
    const fresh = await login();
    expect((await accounts(fresh)).body.status).toBe('ok');
  });

  it('expires every token issued so far on expireTokens, and only those', async () => {
    const token = await login();
    simulator.expireTokens();
    expect(envelopeError(await accounts(token)).code).toBe('TOKEN_EXPIRED');
    expect((await accounts(await login())).body.status).toBe('ok');
  });

  it('answers TOKEN_INVALID to no token, an unknown one, a revoked one and a non-bearer header', async () => {
    const token = await login();
    simulator.revokeTokens();
    for (const answer of [
      await accounts(undefined),
      await accounts('lgly_at-unknown'),
      await accounts(token),
      await call(LEDGERLY_ACCOUNTS_PATH, {
        headers: { authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      }),
    ]) {
      expect(envelopeError(answer).code).toBe('TOKEN_INVALID');
    }
  });

  it('answers INSUFFICIENT_SCOPE to a token without balances:read', async () => {
    const token = await login('payments:write');
    expect(envelopeError(await accounts(token)).code).toBe('INSUFFICIENT_SCOPE');
  });

  it('takes the token life of tokens issued after setTokenTtlSeconds', async () => {
    simulator.setTokenTtlSeconds(60);
    const token = await login();
    clock.advance(60_000);
    expect(envelopeError(await accounts(token)).code).toBe('TOKEN_EXPIRED');
  });
});

describe('accounts, positions and pagination', () => {
  it('walks three pages of two accounts each, positions nested, amounts as minor-unit strings', async () => {
    const pages = await walk(await login());
    expect(pages).toHaveLength(3);
    const listed = pages.flatMap((page) => page.body.data.accounts);
    expect(listed.map((account: { account_id: string }) => account.account_id)).toEqual([
      'lg_acc_1001',
      'lg_acc_1002',
      'lg_acc_1003',
      'lg_acc_1004',
      'lg_acc_1005',
      'lg_acc_1006',
    ]);
    expect(listed[0]).toEqual({
      account_id: 'lg_acc_1001',
      display_name: 'Operating',
      account_type: 'operating',
      state: 'open',
      positions: [
        {
          asset: { code: 'USD', network: null },
          exponent: 2,
          ledger: '1234567',
          available: '1204567',
          reserved: '25000',
          pending: '5000',
          as_of: '2026-11-20T09:47:15Z',
        },
        expect.objectContaining({ asset: { code: 'EUR', network: null }, exponent: 2 }),
        expect.objectContaining({ asset: { code: 'JPY', network: null }, exponent: 0 }),
      ],
    });
    expect(listed[1].positions[0].deposit_address).toEqual({
      address: '0x52908400098527886E0F7030069857D2E4169EE7',
      memo: null,
    });
    expect(listed[5].positions).toEqual([]);
  });

  it('holds amounts that floats break, exact once scaled by their own exponent', async () => {
    const pages = await walk(await login(), { limit: '100' });
    expect(pages).toHaveLength(1);
    const scaled = (pages[0]?.body.data.accounts ?? []).flatMap(
      (account: { positions: { asset: { code: string }; exponent: number; ledger: string }[] }) =>
        account.positions.map(
          (position) =>
            `${position.asset.code} ${new Decimal(position.ledger).times(new Decimal(10).pow(-position.exponent)).toFixed(position.exponent)}`,
        ),
    );
    expect(scaled).toEqual([
      'USD 12345.67',
      'EUR 9007199254740993.01',
      'JPY 123456789',
      'ETH 0.000000000000000001',
      'USDT 1000000000000000000.000001',
      'HKD 0.1',
      'USD -2500.00',
      'HKD 0.20',
      'KWD 1.234',
    ]);
    // A float cannot hold the EUR amount's integer: the wire carries it as a string.
    expect(String(Number('900719925474099301'))).not.toBe('900719925474099301');
    expect(pages[0]?.text).toContain('"ledger":"900719925474099301"');
  });

  it('filters positions by currency, leaving out accounts that hold none of them', async () => {
    const pages = await walk(await login(), { currency: 'hkd,KWD', limit: '2' });
    expect(pages).toHaveLength(2);
    const listed = pages.flatMap((page) => page.body.data.accounts);
    expect(
      listed.map((account: { account_id: string; positions: { asset: { code: string } }[] }) => [
        account.account_id,
        account.positions.map((position) => position.asset.code),
      ]),
    ).toEqual([
      ['lg_acc_1003', ['HKD']],
      ['lg_acc_1004', ['HKD']],
      ['lg_acc_1005', ['KWD']],
    ]);
  });

  it('answers a cursor again with the same page, so a retried read gets what it asked for', async () => {
    const token = await login();
    const first = await accounts(token);
    const cursor = first.body.page.next_cursor as string;
    const again = [
      await accounts(token, `?cursor=${cursor}`),
      await accounts(token, `?cursor=${cursor}`),
    ];
    expect(again[0]?.body.data).toEqual(again[1]?.body.data);
    expect(again[0]?.body.data.accounts[0].account_id).toBe('lg_acc_1003');
  });

  it('takes another page size with a cursor of the same listing', async () => {
    const token = await login();
    const first = await accounts(token, '?limit=1');
    const rest = await accounts(token, `?limit=5&cursor=${first.body.page.next_cursor}`);
    expect(rest.body.data.accounts).toHaveLength(5);
    expect(rest.body.page).toEqual({ next_cursor: null, has_more: false });
  });
});

describe('a slow or broken listing', () => {
  it('still answers every read, and logins at once, under delayReads', async () => {
    simulator.delayReads(20);
    const token = await login();
    expect((await accounts(token)).body.status).toBe('ok');
    expect(simulator.answers().map((answer) => answer.code)).toEqual(['OK', 'OK']);
    simulator.delayReads(undefined);
  });

  it('hands back the cursor it was given under loopCursors, so the listing never ends', async () => {
    const token = await login();
    simulator.loopCursors(true);
    const first = await accounts(token);
    const cursor = first.body.page.next_cursor as string;
    const second = await accounts(token, `?cursor=${cursor}`);
    expect(second.body.page).toEqual({ next_cursor: cursor, has_more: true });
    expect(second.body.data.accounts[0].account_id).toBe('lg_acc_1003');
    simulator.loopCursors(false);
    const mended = await accounts(token, `?cursor=${cursor}`);
    expect(mended.body.page.next_cursor).not.toBe(cursor);
  });
});

describe('bad cursors and bad parameters', () => {
  it.each([
    ['an unknown cursor', async () => 'cur-0000'],
    [
      'a cursor of another listing (another currency filter)',
      async (token: string) =>
        (await accounts(token, '?currency=HKD&limit=1')).body.page.next_cursor,
    ],
    [
      'a cursor of another client',
      async () => {
        const other = await call(LEDGERLY_TOKEN_PATH, {
          method: 'POST',
          headers: FORM,
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: 'other client',
            client_secret: 'p@ss:w0rd+/%',
          }).toString(),
        });
        return (await accounts(other.body.access_token)).body.page.next_cursor;
      },
    ],
    [
      'a cursor past its 300 seconds',
      async (token: string) => {
        const cursor = (await accounts(token)).body.page.next_cursor;
        clock.advance(300_000);
        return cursor;
      },
    ],
    [
      'a cursor from before invalidateCursors',
      async (token: string) => {
        const cursor = (await accounts(token)).body.page.next_cursor;
        simulator.invalidateCursors();
        return cursor;
      },
    ],
  ])('answers %s with INVALID_CURSOR inside HTTP 200', async (_name, cursorOf) => {
    const token = await login();
    const cursor = await cursorOf(token);
    expect(cursor).toEqual(expect.any(String));
    expect(envelopeError(await accounts(token, `?cursor=${encodeURIComponent(cursor)}`))).toEqual({
      code: 'INVALID_CURSOR',
      message: 'the cursor is unknown, expired or was issued for another listing',
      field: 'cursor',
    });
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=2.5', 'limit'],
    ['?limit=1&limit=2', 'limit'],
    ['?page_size=2', 'page_size'],
    ['?currency=US%24', 'currency'],
    ['?currency=USD,', 'currency'],
  ])('answers %s with INVALID_PARAMETER naming %s', async (query, field) => {
    const error = envelopeError(await accounts(await login(), query));
    expect(error).toEqual({
      code: 'INVALID_PARAMETER',
      message: 'a query parameter is invalid',
      field,
    });
  });

  it('answers an unknown path 404 and another method 405, in its envelope', async () => {
    const token = await login();
    const missing = await call('/v1/balances', { headers: { authorization: `Bearer ${token}` } });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const post = await call(LEDGERLY_ACCOUNTS_PATH, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    expect(post.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('rate limits', () => {
  it('answers RATE_LIMITED inside HTTP 200 with retry_after the seconds left in the window', async () => {
    const token = await login();
    simulator.setRateLimit({ limit: 2, windowSeconds: 60 });
    expect((await accounts(token)).body.status).toBe('ok');
    expect((await accounts(token)).body.status).toBe('ok');
    expect(envelopeError(await accounts(token))).toEqual({
      code: 'RATE_LIMITED',
      message: 'too many requests',
      retry_after: 60,
    });
    clock.advance(45_500);
    expect(envelopeError(await accounts(token)).retry_after).toBe(15);
    clock.advance(14_500);
    expect((await accounts(token)).body.status).toBe('ok');
  });

  it('limits reads only: logins go through', async () => {
    simulator.setRateLimit({ limit: 1, windowSeconds: 60 });
    const token = await login();
    await accounts(token);
    expect(envelopeError(await accounts(token)).code).toBe('RATE_LIMITED');
    expect((await login()).length).toBeGreaterThan(0);
  });
});

describe('injected errors (failNext) and the sandbox faults', () => {
  it('answers the next reads with an injected error, then reads again; answers() tells them apart', async () => {
    const token = await login();
    simulator.failNext({ code: 'RATE_LIMITED', retryAfterSeconds: 7, times: 2 });
    expect(envelopeError(await accounts(token)).retry_after).toBe(7);
    expect(envelopeError(await accounts(token)).retry_after).toBe(7);
    simulator.failNext({ code: 'INVALID_CURSOR' });
    expect(envelopeError(await accounts(token)).code).toBe('INVALID_CURSOR');
    simulator.failNext({ code: 'UNAVAILABLE', httpStatus: 503 });
    const unavailable = await accounts(token);
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('UNAVAILABLE');
    expect((await accounts(token)).body.status).toBe('ok');
    expect(
      simulator.answers().map(({ path, status, code, injected }) => [path, status, code, injected]),
    ).toEqual([
      [LEDGERLY_TOKEN_PATH, 200, 'OK', false],
      [LEDGERLY_ACCOUNTS_PATH, 200, 'RATE_LIMITED', true],
      [LEDGERLY_ACCOUNTS_PATH, 200, 'RATE_LIMITED', true],
      [LEDGERLY_ACCOUNTS_PATH, 200, 'INVALID_CURSOR', true],
      [LEDGERLY_ACCOUNTS_PATH, 503, 'UNAVAILABLE', true],
      [LEDGERLY_ACCOUNTS_PATH, 200, 'OK', false],
    ]);
  });

  it('lets reads through before an injected error with after, e.g. to fail a second page', async () => {
    const token = await login();
    simulator.failNext({ code: 'TOKEN_EXPIRED', after: 1 });
    const first = await accounts(token);
    expect(first.body.status).toBe('ok');
    const second = await accounts(token, `?cursor=${first.body.page.next_cursor}`);
    expect(envelopeError(second).code).toBe('TOKEN_EXPIRED');
    const again = await accounts(token, `?cursor=${first.body.page.next_cursor}`);
    expect(again.body.data.accounts[0].account_id).toBe('lg_acc_1003');
  });

  it('answers auth-once with TOKEN_EXPIRED inside HTTP 200, recorded with the fault', async () => {
    const token = await login();
    server.setFault('rest', { type: 'auth-once' });
    expect(envelopeError(await accounts(token)).code).toBe('TOKEN_EXPIRED');
    expect((await accounts(token)).body.status).toBe('ok');
    const reads = server.calls('rest').filter((call) => !restSandbox.isLogin(call.path));
    expect(reads.map((call) => [call.status, call.fault])).toEqual([
      [200, 'auth-once'],
      [200, undefined],
    ]);
  });

  it('answers auth-once+login at the token endpoint with 401 invalid_client', async () => {
    server.setFault('rest', { type: 'auth-once', includeLogin: true });
    const answer = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
    expect(server.calls('rest').map((call) => [call.path, call.status, call.fault])).toEqual([
      [LEDGERLY_TOKEN_PATH, 401, 'auth-once'],
    ]);
  });

  it.each([
    [500, 'INTERNAL'],
    [502, 'BAD_GATEWAY'],
    [503, 'UNAVAILABLE'],
    [504, 'GATEWAY_TIMEOUT'],
    [507, 'ERROR'],
  ])('answers a status fault %i with its envelope code %s', async (status, code) => {
    const token = await login();
    server.setFault('rest', { type: 'status', status, times: 1 });
    const answer = await accounts(token);
    expect(answer.status).toBe(status);
    expect(answer.body.status).toBe('error');
    expect(answer.body.error.code).toBe(code);
    expect(server.calls('rest').at(-1)).toMatchObject({ status, fault: 'status' });
  });

  it('answers the rate-limit fault as its gateway does: 429, Retry-After, RATE_LIMITED', async () => {
    const token = await login();
    server.setFault('rest', { type: 'rate-limit', retryAfterSeconds: 30, times: 1 });
    const answer = await accounts(token);
    expect(answer.status).toBe(429);
    expect(answer.headers['retry-after']).toBe('30');
    expect(answer.body.error.code).toBe('RATE_LIMITED');
    expect(server.calls('rest').at(-1)).toMatchObject({ status: 429, fault: 'rate-limit' });
  });

  it('builds any of its envelope errors for a fault that names one (envelopeError)', () => {
    expect(simulator.envelopeCodes).toContain('INVALID_CURSOR');
    const limited = simulator.envelopeError('RATE_LIMITED', { retryAfterSeconds: 30 });
    expect(limited.status).toBe(200);
    expect(JSON.parse(limited.body ?? '').error).toEqual({
      code: 'RATE_LIMITED',
      message: 'too many requests',
      retry_after: 30,
    });
    expect(JSON.parse(simulator.envelopeError('INVALID_CURSOR').body ?? '').error.code).toBe(
      'INVALID_CURSOR',
    );
  });

  it('writes every amount as the raw number 1e9000000 under huge-amount', async () => {
    const token = await login();
    server.setFault('rest', { type: 'huge-amount', times: 1 });
    const answer = await accounts(token);
    expect(answer.text).toContain(`"ledger":${SANDBOX_HUGE_AMOUNT},`);
    expect(answer.text).toContain(`"available":${SANDBOX_HUGE_AMOUNT},`);
    expect(answer.text).not.toContain('"ledger":"');
    // The exponent is no amount, and keeps its value.
    expect(answer.text).toContain('"exponent":2,');
  });

  it('hands out the bad token of bad-token at the token endpoint', async () => {
    server.setFault('rest', { type: 'bad-token' });
    const answer = await call(LEDGERLY_TOKEN_PATH, {
      method: 'POST',
      headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    });
    expect(answer.body.access_token).toContain('\r\n');
  });
});

describe('what the sandbox records', () => {
  it('records every call, tells the login apart and redacts credentials at the control endpoint', async () => {
    const token = await login();
    await accounts(token, '?limit=3');
    await accounts('lgly_at-unknown');
    const calls = server.calls('rest');
    expect(
      calls.map((call) => [
        call.method,
        call.path,
        call.query,
        call.status,
        restSandbox.isLogin(call.path),
      ]),
    ).toEqual([
      ['POST', LEDGERLY_TOKEN_PATH, {}, 200, true],
      ['GET', LEDGERLY_ACCOUNTS_PATH, { limit: '3' }, 200, false],
      ['GET', LEDGERLY_ACCOUNTS_PATH, {}, 200, false],
    ]);
    expect(calls[0]?.body).toBe('grant_type=client_credentials');
    expect(calls[1]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(server.stats().rest).toEqual({ logins: 1, reads: 2, maxConcurrent: 1 });
    const control = await request(`${server.controlUrl}/calls?kind=rest`);
    const text = await control.body.text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64'));
    expect(JSON.parse(text).calls[0].headers.authorization).toBe('[redacted]');
    // The envelope codes, which the HTTP status alone does not show.
    expect(simulator.answers().map((answer) => answer.code)).toEqual(['OK', 'OK', 'TOKEN_INVALID']);
  });
});

describe('what the simulator keeps', () => {
  /** A request as the sandbox server hands it over, without a socket: the bound is the point. */
  function simRequest(path: string, query = '', token?: string) {
    return {
      method: 'GET',
      path,
      query: new URLSearchParams(query),
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      body: '',
      remoteAddress: '127.0.0.1',
    };
  }

  it('keeps the last 10 000 answers', async () => {
    for (let index = 0; index < 10_001; index += 1) await simulator.handle(simRequest('/nowhere'));
    await simulator.handle(simRequest('/last'));
    const kept = simulator.answers();
    expect(kept).toHaveLength(10_000);
    expect(kept.at(-1)?.path).toBe('/last');
  });

  it('keeps at most 10 000 live cursors, forgetting the oldest: it answers INVALID_CURSOR', async () => {
    const token = await login();
    const first = await simulator.handle(simRequest(LEDGERLY_ACCOUNTS_PATH, 'limit=1', token));
    const oldest = JSON.parse(first.body ?? '').page.next_cursor as string;
    for (let index = 0; index < 10_000; index += 1) {
      await simulator.handle(simRequest(LEDGERLY_ACCOUNTS_PATH, 'limit=1', token));
    }
    expect(envelopeError(await accounts(token, `?cursor=${oldest}`)).code).toBe('INVALID_CURSOR');
  });

  it('keeps at most 10 000 live tokens, forgetting the oldest: it reads as unknown', async () => {
    const first = await login();
    const tokenRequest = {
      ...simRequest(LEDGERLY_TOKEN_PATH),
      method: 'POST',
      headers: { ...FORM, authorization: basic(CLIENT_ID, CLIENT_SECRET) },
      body: 'grant_type=client_credentials',
    };
    for (let index = 0; index < 10_000; index += 1) await simulator.handle(tokenRequest);
    expect(simulator.issuedTokens()).toHaveLength(10_000);
    expect(envelopeError(await accounts(first)).code).toBe('TOKEN_INVALID');
  });
});
