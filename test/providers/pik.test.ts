import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import { loginToPik } from '../../src/providers/pik/auth.js';
import { fetchPikBalanceByCurrency, fetchPikBalanceList } from '../../src/providers/pik/client.js';
import {
  normalizePikBalanceByCurrency,
  normalizePikBalanceList,
} from '../../src/providers/pik/normalize.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { loadFixture, plainAccounts } from '../helpers/fixtures.js';
import {
  type CannedAnswer,
  type CannedUpstream,
  type ExpectedFailure,
  mappedFailure,
  providerConfig,
  startCannedUpstream,
} from './canned-upstream.js';

describe('pik normalization (fixtures)', () => {
  for (const name of ['seed-example', 'precision']) {
    it(`normalizes ${name}`, () => {
      const fixture = loadFixture('pik', name);
      expect(plainAccounts(normalizePikBalanceList(fixture.raw))).toEqual(fixture.expected);
    });
  }

  it('reads Get Balance by Currency, whose data is one record', () => {
    const fixture = loadFixture('pik', 'precision');
    const list = fixture.raw as { data: unknown[] };
    const single = { code: parseLosslessJson('200'), message: 'success', data: list.data[0] };
    expect(plainAccounts(normalizePikBalanceByCurrency(single))).toEqual([
      (fixture.expected as unknown[])[0],
    ]);
  });

  it('names the field and the type received when an amount is missing or wrong', () => {
    const body = parseLosslessJson(
      '{"code":200,"data":[{"balanceNo":"B","currencyCode":"USD","balance":"abc","availableBalance":1,"frozenBalance":0,"pendingBalance":0}]}',
    );
    expect(() => normalizePikBalanceList(body)).toThrow(
      'body.data[0].balance: expected an amount, received a string that is not a number',
    );
    const missing = parseLosslessJson(
      '{"code":200,"data":[{"balanceNo":"B","currencyCode":"USD","balance":1,"frozenBalance":0,"pendingBalance":0}]}',
    );
    expect(() => normalizePikBalanceList(missing)).toThrow(
      'body.data[0].availableBalance: expected an amount, received nothing',
    );
    expect(() => normalizePikBalanceList(parseLosslessJson('{"code":200,"data":{}}'))).toThrow(
      'body.data: expected an array, received an object',
    );
  });

  it('refuses a number outside the bounds of an amount by its path, without expanding it', () => {
    const record = (amounts: string) =>
      `{"balanceNo":"B","currencyCode":"USD",${amounts},"frozenBalance":0,"pendingBalance":0}`;
    const list = parseLosslessJson(
      `{"code":200,"data":[${record('"balance":1,"availableBalance":1')},${record('"balance":1e9000000,"availableBalance":1')}]}`,
    );
    expect(() => normalizePikBalanceList(list)).toThrow(
      'body.data[1].balance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
    const single = parseLosslessJson(
      `{"code":200,"data":${record('"balance":1,"availableBalance":-1e-9000000')}}`,
    );
    expect(() => normalizePikBalanceByCurrency(single)).toThrow(
      'body.data.availableBalance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});

describe('pik error table: each answer maps as PROVIDERS.md says', () => {
  let upstream: CannedUpstream;
  let config: ProviderConfigOf<'pik'>;
  beforeAll(async () => {
    upstream = await startCannedUpstream('pik-1');
    config = providerConfig('pik', {
      id: 'pik-1',
      baseUrl: upstream.baseUrl,
      credentials: { appId: 'app-1', appSecret: 'canary-pik-secret' },
    });
  });
  afterAll(async () => {
    await upstream.close();
  });

  const tokenRejected = {
    code: 'UPSTREAM_AUTH_FAILED',
    retryable: false,
    status: 401,
    tokenRejected: true,
    message: 'pik-1: the provider rejected the access token',
  };
  /** A balance answer; `list` is what the balance list makes of it, `byCurrency` where it differs. */
  const reads: {
    name: string;
    answer: CannedAnswer;
    list: ExpectedFailure;
    byCurrency?: ExpectedFailure | 'no account';
  }[] = [
    {
      name: 'HTTP 401 (token expired) rejects the token: one re-login',
      answer: { status: 401, body: '{"code":401,"message":"token expired","data":null}' },
      list: tokenRejected,
    },
    {
      name: 'code 401 under HTTP 200 rejects the token too',
      answer: { status: 200, body: '{"code":401,"message":"token expired","data":null}' },
      list: tokenRejected,
    },
    {
      name: 'HTTP 401 with a body that is not JSON rejects the token',
      answer: { status: 401, body: '<html>401</html>' },
      list: tokenRejected,
    },
    {
      name: 'a code 200 never turns an HTTP 401 into a success',
      answer: { status: 401, body: '{"code":200,"data":[]}' },
      list: tokenRejected,
    },
    {
      name: 'HTTP 404 is not found; by currency, no such balance',
      answer: { status: 404, body: '{"code":404,"message":"balance not found","data":null}' },
      list: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 404,
        message: 'pik-1: the balance list was not found',
      },
      byCurrency: 'no account',
    },
    {
      name: 'code 404 under HTTP 200 is not found too',
      answer: { status: 200, body: '{"code":404,"message":"balance not found","data":null}' },
      list: {
        code: 'UPSTREAM_NOT_FOUND',
        retryable: false,
        status: 404,
        message: 'pik-1: the balance list was not found',
      },
      byCurrency: 'no account',
    },
    {
      name: 'HTTP 500 is unavailable',
      answer: { status: 500, body: '{"code":500,"message":"internal"}' },
      list: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 500,
        message: 'pik-1: the balance list failed upstream (HTTP 500)',
      },
    },
    {
      name: 'code 503 under HTTP 200 is unavailable, named as its code',
      answer: { status: 200, body: '{"code":503,"message":"maintenance"}' },
      list: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 503,
        message: 'pik-1: the balance list failed upstream (HTTP 503)',
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{"code":429}', headers: { 'retry-after': '7' } },
      list: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 7,
        message: 'pik-1: the balance list was rate limited (HTTP 429); retry after 7 s',
      },
    },
    {
      name: 'code 429 under HTTP 200 is rate limited, with Retry-After',
      answer: { status: 200, body: '{"code":429}', headers: { 'retry-after': '3' } },
      list: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 3,
        message: 'pik-1: the balance list was rate limited (HTTP 429); retry after 3 s',
      },
    },
    {
      name: 'HTTP 400 is an answer the contract does not define',
      answer: { status: 400, body: '{"code":400,"message":"bad"}' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 400,
        message:
          "pik-1: the balance list answered HTTP 400, which the provider's contract does not define",
      },
    },
    {
      name: 'code 422 under HTTP 200 is an answer the contract does not define',
      answer: { status: 200, body: '{"code":422,"message":"bad"}' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 422,
        message:
          "pik-1: the balance list answered HTTP 422, which the provider's contract does not define",
      },
    },
    {
      name: 'HTTP 200 without a code breaks the contract',
      answer: { status: 200, body: '{"message":"success","data":[]}' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "pik-1: the balance list broke the provider's contract: body.code: expected 200 in a successful answer",
      },
    },
    {
      name: 'HTTP 200 whose code is the string "200" breaks the contract',
      answer: { status: 200, body: '{"code":"200","data":[]}' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "pik-1: the balance list broke the provider's contract: body.code: expected 200 in a successful answer",
      },
    },
    {
      name: 'HTTP 200 whose body is no object breaks the contract',
      answer: { status: 200, body: '[]' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "pik-1: the balance list broke the provider's contract: body: expected an object, received an array",
      },
    },
    {
      name: 'HTTP 200 whose body is not JSON breaks the contract',
      answer: { status: 200, body: '<html>gateway</html>' },
      list: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "pik-1: the balance list broke the provider's contract: the body is not valid JSON (a value was expected, at position 0)",
      },
    },
  ];

  for (const { name, answer, list, byCurrency } of reads) {
    it(`balance reads: ${name}`, async () => {
      upstream.answer(answer);
      expect(await mappedFailure(fetchPikBalanceList(upstream.http, config, 'token'))).toEqual(
        list,
      );
      const single = fetchPikBalanceByCurrency(upstream.http, config, 'token', 'USD');
      if (byCurrency === 'no account') {
        await expect(single).resolves.toEqual([]);
      } else {
        const expected = byCurrency ?? {
          ...list,
          message: list.message.replace('the balance list', 'the balance by currency'),
        };
        expect(await mappedFailure(single)).toEqual(expected);
      }
    });
  }

  it('balance reads: code 200 under HTTP 200 is the answer', async () => {
    const record =
      '{"balanceNo":"B-1","currencyCode":"USD","balance":2,"availableBalance":1,"frozenBalance":1,"pendingBalance":0}';
    upstream.answer({ status: 200, body: `{"code":200,"message":"success","data":[${record}]}` });
    const list = await fetchPikBalanceList(upstream.http, config, 'token');
    expect(list.map((account) => account.upstreamId)).toEqual(['B-1']);
    upstream.answer({ status: 200, body: `{"code":200,"message":"success","data":${record}}` });
    const single = await fetchPikBalanceByCurrency(upstream.http, config, 'token', 'USD');
    expect(single.map((account) => account.upstreamId)).toEqual(['B-1']);
  });

  const rejectedLogin: ExpectedFailure = {
    code: 'UPSTREAM_AUTH_FAILED',
    retryable: false,
    status: 401,
    message: 'pik-1: the provider rejected the login (invalid appId or appSecret)',
  };
  const logins: { name: string; answer: CannedAnswer; expected: ExpectedFailure }[] = [
    {
      name: 'HTTP 401 rejects the credentials, for good',
      answer: { status: 401, body: '{"code":401,"message":"invalid credentials","data":null}' },
      expected: rejectedLogin,
    },
    {
      name: 'code 401 under HTTP 200 rejects the credentials too',
      answer: { status: 200, body: '{"code":401,"message":"invalid credentials","data":null}' },
      expected: rejectedLogin,
    },
    {
      name: 'HTTP 500 is unavailable',
      answer: { status: 500, body: '{"code":500}' },
      expected: {
        code: 'UPSTREAM_UNAVAILABLE',
        retryable: true,
        status: 500,
        message: 'pik-1: the login failed upstream (HTTP 500)',
      },
    },
    {
      name: 'HTTP 429 is rate limited, with Retry-After',
      answer: { status: 429, body: '{}', headers: { 'retry-after': '5' } },
      expected: {
        code: 'UPSTREAM_RATE_LIMITED',
        retryable: true,
        status: 429,
        retryAfterSeconds: 5,
        message: 'pik-1: the login was rate limited (HTTP 429); retry after 5 s',
      },
    },
    {
      name: 'HTTP 404 is an answer the contract does not define',
      answer: { status: 404, body: '{"code":404}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        status: 404,
        message:
          "pik-1: the login answered HTTP 404, which the provider's contract does not define",
      },
    },
    {
      name: 'another code under HTTP 200 breaks the contract',
      answer: { status: 200, body: '{"code":500,"message":"internal"}' },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          "pik-1: the login broke the provider's contract: login body.code: expected 200 in a successful answer",
      },
    },
    {
      name: 'an empty token breaks the contract',
      answer: {
        status: 200,
        body: '{"code":200,"data":{"accessToken":"","tokenType":"Bearer","expiresIn":7200}}',
      },
      expected: {
        code: 'UPSTREAM_BAD_RESPONSE',
        retryable: false,
        message:
          'pik-1: the login broke the provider\'s contract: login body.data.accessToken: expected a token, received ""',
      },
    },
  ];

  for (const { name, answer, expected } of logins) {
    it(`login: ${name}`, async () => {
      upstream.answer(answer);
      const before = upstream.requests();
      expect(await mappedFailure(loginToPik(upstream.http, config, () => 0))).toEqual(expected);
      // A login is never repeated automatically.
      expect(upstream.requests() - before).toBe(1);
    });
  }

  it('login: code 200 under HTTP 200 gives the token for expiresIn seconds', async () => {
    upstream.answer({
      status: 200,
      body: '{"code":200,"message":"success","data":{"accessToken":"jwt-1","tokenType":"Bearer","expiresIn":7200}}',
    });
    await expect(loginToPik(upstream.http, config, () => 1000)).resolves.toEqual({
      value: 'jwt-1',
      expiresAt: 1000 + 7_200_000,
    });
  });
});
