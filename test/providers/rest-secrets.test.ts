import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plainAccounts } from '../helpers/fixtures.js';
import { captureLogs } from '../helpers/log-capture.js';
import { mappedFailure } from './canned-upstream.js';
import { ITEMS_MAPPING, type RestUpstream, restAdapter, startRestUpstream } from './rest-server.js';

/**
 * Every secret a rest configuration names, and every token a login returns, stays out of error
 * messages, log lines and `Balance.raw`, whatever the upstream answers: canaries in each place a
 * secret can go (templates of a login body, a header, the query), then every outcome.
 */

const CANARY = 'canary7r';
const CREDENTIALS = {
  user: `${CANARY}-user`,
  password: `${CANARY}-password`,
  key: `${CANARY}-api-key`,
};
const TOKEN = `${CANARY}-issued-token`;

let upstream: RestUpstream;
const logs = captureLogs();
const seen: string[] = [];
beforeAll(async () => {
  upstream = await startRestUpstream();
});
afterAll(async () => {
  await upstream.close();
  const everything = [...seen, ...logs.lines].join('\n');
  expect(everything).not.toContain(CANARY);
});

function session(extra: Record<string, unknown> = {}) {
  return restAdapter(
    {
      baseUrl: upstream.baseUrl,
      credentials: CREDENTIALS,
      paths: { login: '/login', balances: '/balances' },
      auth: {
        type: 'login',
        headers: { 'X-Login-Key': '{credentials.key}' },
        query: { key: '{credentials.key}' },
        body: { user: '{credentials.user}', password: '{credentials.password}' },
        token: '/token',
        lifetime: { seconds: 300 },
      },
      mapping: { ...ITEMS_MAPPING, total: '/amount' },
      ...extra,
    },
    { log: logs.log },
  ).adapter;
}

async function outcome(call: Promise<unknown>): Promise<unknown> {
  const result = await mappedFailure(call);
  seen.push(JSON.stringify(result));
  return result;
}

describe('canaries', () => {
  it('a record that echoes a secret or the token shows "[redacted]" in raw', async () => {
    upstream.route('POST /login', () => ({ body: { token: TOKEN } }));
    upstream.route('GET /balances', () => ({
      body: {
        items: [
          {
            id: 'a-1',
            ccy: 'USD',
            amount: '1',
            echo: { user: CREDENTIALS.user, header: `Bearer ${TOKEN}`, note: 'plain' },
          },
        ],
      },
    }));
    const accounts = await session().fetchAccounts({ currencies: null });
    const shown = plainAccounts(accounts);
    seen.push(JSON.stringify(shown));
    expect(shown).toMatchObject([
      {
        balances: [{ raw: { echo: { user: '[redacted]', header: '[redacted]', note: 'plain' } } }],
      },
    ]);
    // The secrets were sent where the configuration put them.
    const login = upstream.requests('/login')[0];
    expect(login?.headers['x-login-key']).toBe(CREDENTIALS.key);
    expect(login?.query.get('key')).toBe(CREDENTIALS.key);
  });

  it.each<[string, () => void]>([
    [
      'a rejected login',
      () =>
        upstream.route('POST /login', () => ({
          status: 401,
          body: { echo: CREDENTIALS.password },
        })),
    ],
    [
      'a login answer without a token',
      () => upstream.route('POST /login', () => ({ body: { token: { value: TOKEN } } })),
    ],
    [
      'a login that is not JSON',
      () => upstream.route('POST /login', () => ({ body: `{"token": "${TOKEN}` })),
    ],
    [
      'a token rejected twice',
      () => {
        upstream.route('POST /login', () => ({ body: { token: TOKEN } }));
        upstream.route('GET /balances', () => ({ status: 401, body: { token: TOKEN } }));
      },
    ],
    [
      'a balance answer that breaks the mapping',
      () => {
        upstream.route('POST /login', () => ({ body: { token: TOKEN } }));
        upstream.route('GET /balances', () => ({
          body: { items: [{ id: TOKEN, ccy: 'USD', amount: TOKEN }] },
        }));
      },
    ],
    [
      'a token that cannot be sent',
      () => upstream.route('POST /login', () => ({ body: { token: `${TOKEN}\r\nX: y` } })),
    ],
  ])('%s', async (_name, arrange) => {
    arrange();
    const result = await outcome(session().fetchAccounts({ currencies: null }));
    expect(result).not.toBe('resolved');
    expect(JSON.stringify(result)).not.toContain(CANARY);
  });

  it('an API key in the query of an upstream that is down', async () => {
    const result = await outcome(
      restAdapter(
        {
          baseUrl: 'http://127.0.0.1:9',
          credentials: CREDENTIALS,
          auth: { type: 'apiKey', in: 'query', name: 'key', value: '{credentials.key}' },
          mapping: ITEMS_MAPPING,
        },
        { log: logs.log },
      ).adapter.fetchAccounts({ currencies: null }),
    );
    expect(result).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('the log lines were written, and hold no canary', () => {
    expect(logs.lines.some((line) => line.includes('"route":"login"'))).toBe(true);
    expect(logs.lines.join('\n')).not.toContain(CANARY);
  });
});
