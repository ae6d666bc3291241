import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerlyRestProvider } from '../../src/providers/rest/demo.js';
import { type LedgerlySimulator, restSandbox } from '../../src/providers/rest/sandbox.js';
import { createMovableClock } from '../../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../../src/sandbox/server.js';
import { mappedFailure } from './canned-upstream.js';
import {
  ITEMS_MAPPING,
  items,
  type RestUpstream,
  restAdapter,
  startRestUpstream,
} from './rest-server.js';

/**
 * The rest kind's answers: the error envelope under HTTP 200 and the configured table (re-login
 * once, rate limited with the seconds from a field, not found, empty), and the default status
 * mapping of the built-in kinds for answers no row names. Messages never quote the body.
 */

let upstream: RestUpstream;
beforeAll(async () => {
  upstream = await startRestUpstream();
});
afterAll(() => upstream.close());

let reply: { status?: number; body: unknown; headers?: Record<string, string> } = { body: {} };

const ENVELOPED = {
  envelope: { statusAt: '/ok', success: [true], codeAt: '/error/code' },
  errors: [
    { code: 'RATE', means: 'UPSTREAM_RATE_LIMITED', retryAfterAt: '/error/wait' },
    { code: 'GONE', means: 'UPSTREAM_NOT_FOUND', message: 'the account is closed' },
    { code: 'NOTHING', means: 'empty' },
    { status: 409, means: 'UPSTREAM_UNAVAILABLE' },
  ],
};

function adapter(extra: Record<string, unknown> = ENVELOPED) {
  return restAdapter({
    baseUrl: upstream.baseUrl,
    paths: { balances: '/answer' },
    mapping: { ...ITEMS_MAPPING, accounts: '/data/items' },
    ...extra,
  }).adapter;
}

function answer(next: typeof reply) {
  reply = next;
  upstream.route('GET /answer', () => reply);
}

describe('an envelope under HTTP 200', () => {
  it('reads a success envelope as data', async () => {
    answer({ body: { ok: true, data: items('a') } });
    expect(await adapter().fetchAccounts({ currencies: null })).toHaveLength(1);
  });

  it.each<[string, unknown, Record<string, unknown>]>([
    [
      'rate limited with the seconds from a field',
      { ok: false, error: { code: 'RATE', wait: 7 } },
      {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        message:
          'bank: the balance list was rate limited (HTTP 200 with code RATE); retry after 7 s',
        retryAfterSeconds: 7,
        status: 200,
      },
    ],
    [
      'a row with its own message',
      { ok: false, error: { code: 'GONE' } },
      {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        message: 'bank: the account is closed (HTTP 200 with code GONE)',
        status: 200,
      },
    ],
    [
      'a code no row names, never quoted',
      { ok: false, error: { code: 'SECRET-BODY-TEXT' } },
      {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          'bank: the balance list answered HTTP 200 with status false and code a string no row names, which no row of errors names',
        status: 200,
      },
    ],
    [
      'a status code that reads as an HTTP error status',
      { ok: false, error: { code: 503 } },
      {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        message: 'bank: the balance list failed upstream (code 503 under HTTP 200)',
        status: 200,
      },
    ],
    [
      'an envelope without its status',
      { data: items('a') },
      {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "bank: the balance list answered HTTP 200 without the envelope's status (/ok), which no row of errors names",
        status: 200,
      },
    ],
  ])('%s', async (_name, body, expected) => {
    answer({ body });
    expect(await mappedFailure(adapter().fetchAccounts({ currencies: null }))).toEqual(expected);
  });

  it('an "empty" row is no accounts, not an error', async () => {
    answer({ body: { ok: false, error: { code: 'NOTHING' } } });
    expect(await adapter().fetchAccounts({ currencies: null })).toEqual([]);
  });
});

describe('HTTP statuses no row names map as for the built-in kinds', () => {
  it.each<[number, Record<string, string>, Record<string, unknown>]>([
    [
      403,
      {},
      { code: 'UPSTREAM_AUTH_FAILED', message: 'bank: the provider refused access (HTTP 403)' },
    ],
    [
      404,
      {},
      { code: 'UPSTREAM_NOT_FOUND', message: 'bank: the balance list was not found (HTTP 404)' },
    ],
    [
      429,
      { 'retry-after': '30' },
      {
        code: 'UPSTREAM_RATE_LIMITED',
        message: 'bank: the balance list was rate limited (HTTP 429); retry after 30 s',
        retryAfterSeconds: 30,
      },
    ],
    [
      500,
      {},
      {
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'bank: the balance list failed upstream (HTTP 500)',
      },
    ],
    [
      418,
      {},
      {
        code: 'UPSTREAM_BAD_RESPONSE',
        message:
          'bank: the balance list answered HTTP 418, which the configuration does not define',
      },
    ],
    [
      409,
      {},
      {
        code: 'UPSTREAM_UNAVAILABLE',
        message: 'bank: the balance list failed upstream (HTTP 409)',
      },
    ],
  ])('HTTP %i', async (status, headers, expected) => {
    answer({ status, body: { ok: false, error: {} }, headers });
    expect(await mappedFailure(adapter().fetchAccounts({ currencies: null }))).toMatchObject({
      ...expected,
      status,
    });
  });

  it('a body that is not JSON names where, never what', async () => {
    answer({ body: '{"ok": true, "data": SECRET' });
    const failure = await mappedFailure(adapter().fetchAccounts({ currencies: null }));
    expect(failure).toMatchObject({ code: 'UPSTREAM_BAD_RESPONSE' });
    expect(JSON.stringify(failure)).not.toContain('SECRET');
  });
});

describe('Ledgerly: errors inside HTTP 200 through the demo configuration', () => {
  let sandbox: SandboxServer;
  let simulator: LedgerlySimulator;
  const clock = createMovableClock();
  beforeAll(async () => {
    simulator = restSandbox.createSimulator(restSandbox.demoData(), clock);
    sandbox = await startSandboxServer({ simulators: [simulator], clock });
  });
  afterAll(() => sandbox.close());

  function ledgerly() {
    return restAdapter({ ...ledgerlyRestProvider(sandbox.baseUrl('rest')), id: 'bank' }, { clock })
      .adapter;
  }

  it('an expired-token code logs in once more and reads on', async () => {
    const reader = ledgerly();
    await reader.fetchAccounts({ currencies: null });
    const before = simulator.issuedTokens().length;
    simulator.expireTokens();
    expect(await reader.fetchAccounts({ currencies: null })).toHaveLength(6);
    expect(simulator.issuedTokens().length - before).toBe(1);
    // A code that keeps saying so: one re-login, then UPSTREAM_AUTH_FAILED.
    simulator.failNext({ code: 'TOKEN_EXPIRED', times: 2 });
    expect(await mappedFailure(reader.fetchAccounts({ currencies: null }))).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      message: 'bank: the provider rejected the session after a new login; check the credentials',
    });
    expect(simulator.issuedTokens().length - before).toBe(2);
  });

  it('rate limited inside HTTP 200, with the seconds from the envelope', async () => {
    simulator.failNext({ code: 'RATE_LIMITED', retryAfterSeconds: 12 });
    expect(await mappedFailure(ledgerly().fetchAccounts({ currencies: null }))).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      retryable: true,
      message:
        'bank: the balance list was rate limited (HTTP 200 with code RATE_LIMITED); retry after 12 s',
      retryAfterSeconds: 12,
      status: 200,
    });
  });
});

describe('a row that drops the session', () => {
  it('forgets the token, so the next read logs in again', async () => {
    let logins = 0;
    upstream.route('POST /session', () => {
      logins += 1;
      return { body: { ok: true, token: `t-${logins}` } };
    });
    let bound = true;
    upstream.route('GET /bound', () =>
      bound
        ? { body: { ok: false, error: { code: 'OTHER_ADDRESS' } } }
        : { body: { ok: true, data: items('b') } },
    );
    const session = (dropsSession: boolean) =>
      restAdapter({
        baseUrl: upstream.baseUrl,
        paths: { login: '/session', balances: '/bound' },
        auth: { type: 'login', token: '/token', lifetime: { seconds: 600 } },
        envelope: { statusAt: '/ok', success: [true], codeAt: '/error/code' },
        errors: [{ code: 'OTHER_ADDRESS', means: 'UPSTREAM_AUTH_FAILED', dropsSession }],
        mapping: { ...ITEMS_MAPPING, accounts: '/data/items' },
      }).adapter;
    for (const [dropsSession, expected] of [
      [true, 2],
      [false, 1],
    ] as const) {
      logins = 0;
      bound = true;
      const reader = session(dropsSession);
      expect(await mappedFailure(reader.fetchAccounts({ currencies: null }))).toMatchObject({
        code: 'UPSTREAM_AUTH_FAILED',
        message: 'bank: the provider refused access (HTTP 200 with code OTHER_ADDRESS)',
      });
      bound = false;
      expect(await reader.fetchAccounts({ currencies: null })).toHaveLength(1);
      expect(logins).toBe(expected);
    }
  });
});
