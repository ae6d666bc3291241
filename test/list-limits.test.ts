import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigWith, startTestApp, type TestApp } from './helpers/app.js';

/**
 * Every list a request passes is bounded by server.limits.maxListItems (500): arrays in the
 * variables, at any depth, which the token limit does not see, and list literals in the document.
 */
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const codes = (count: number) =>
  Array.from({ length: count }, (_, index) => `C${index.toString(36).toUpperCase()}`);

async function post(body: unknown, yoga = app.yoga) {
  const response = await yoga.fetch('http://balance-api.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    json: (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

const TOTALS = 'query ($currencies: [String!]) { totals(currencies: $currencies) { complete } }';
const ENTITIES =
  'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id } } }';

describe('list variables', () => {
  it('refuses 100 000 currencies with a 400 before any upstream call', async () => {
    app.sandbox.clearCalls();
    const { status, json } = await post({
      query: TOTALS,
      variables: { currencies: codes(100_000) },
    });
    expect(status).toBe(400);
    expect(json).toEqual({
      errors: [
        {
          message:
            'Variable "$currencies" holds 100000 items; at most 500 are accepted (server.limits.maxListItems).',
          extensions: { code: 'BAD_USER_INPUT' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('refuses too many currencies for one wallet, which would forward them all upstream', async () => {
    app.sandbox.clearCalls();
    const { status, json } = await post({
      query:
        'query ($c: [String!]) { provider(id: "treasury") { balances(currencies: $c) { total } } }',
      variables: { c: codes(501) },
    });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toBe(
      'Variable "$c" holds 501 items; at most 500 are accepted (server.limits.maxListItems).',
    );
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('refuses more entity representations than the limit', async () => {
    app.sandbox.clearCalls();
    const representations = Array.from({ length: 501 }, (_, index) => ({
      __typename: 'Account',
      id: `acquirer:${index}`,
    }));
    const { status, json } = await post({ query: ENTITIES, variables: { r: representations } });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toBe(
      'Variable "$r" holds 501 items; at most 500 are accepted (server.limits.maxListItems).',
    );
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('looks inside the variables at any depth, and names where', async () => {
    const { status, json } = await post({
      query: ENTITIES,
      variables: { r: [{ __typename: 'Account', id: 'acquirer:1', tags: [[], codes(501)] }] },
    });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toBe(
      'Variable "$r" holds 501 items at [0].tags[1]; at most 500 are accepted (server.limits.maxListItems).',
    );
  });

  it('accepts 500 currencies and 500 representations', async () => {
    const totals = await post({ query: TOTALS, variables: { currencies: codes(500) } });
    expect(totals.status).toBe(200);
    expect(totals.json).toEqual({ data: { totals: { complete: true } } });
    const representations = Array.from({ length: 500 }, () => ({
      __typename: 'Account',
      id: 'acquirer:417971020',
    }));
    const entities = await post({ query: ENTITIES, variables: { r: representations } });
    expect(entities.status).toBe(200);
    expect(entities.json.errors).toBeUndefined();
    expect(entities.json.data?._entities).toHaveLength(500);
  });

  it('checks GET variables too', async () => {
    const search = new URLSearchParams({
      query: TOTALS,
      variables: JSON.stringify({ currencies: codes(501) }),
    });
    const response = await app.yoga.fetch(`http://balance-api.test/graphql?${search}`, {
      headers: { accept: 'application/graphql-response+json', 'x-graphql-yoga-csrf': '1' },
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toBe(
      'Variable "$currencies" holds 501 items; at most 500 are accepted (server.limits.maxListItems).',
    );
  });
});

describe('list literals in the document', () => {
  const literal = (count: number) =>
    codes(count)
      .map((code) => `"${code}"`)
      .join(' ');

  it('refuses an argument list over the limit before any upstream call', async () => {
    app.sandbox.clearCalls();
    const { status, json } = await post({
      query: `{ totals(currencies: [${literal(501)}]) { complete } }`,
    });
    expect(status).toBe(400);
    expect(json).toEqual({
      errors: [
        {
          message:
            'Argument "currencies" holds 501 items; at most 500 are accepted (server.limits.maxListItems).',
          locations: [{ line: 1, column: 22 }],
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it("refuses a variable's default value over the limit", async () => {
    const { status, json } = await post({
      query: `query ($c: [String!] = [${literal(501)}]) { totals(currencies: $c) { complete } }`,
    });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toBe(
      'The default value of variable "$c" holds 501 items; at most 500 are accepted (server.limits.maxListItems).',
    );
  });

  it('accepts a literal of 500 items', async () => {
    const { status, json } = await post({
      query: `{ totals(currencies: [${literal(500)}]) { complete } }`,
    });
    expect(status).toBe(200);
    expect(json).toEqual({ data: { totals: { complete: true } } });
  });
});

describe('server.limits.maxListItems', () => {
  it('is configurable', async () => {
    const small = await startTestApp({
      sandbox: app.sandbox,
      configDocument: (baseUrl) => ({
        server: { limits: { maxListItems: 3 } },
        ...demoConfigWith({})(baseUrl),
      }),
    });
    try {
      const refused = await post(
        { query: TOTALS, variables: { currencies: codes(4) } },
        small.yoga,
      );
      expect(refused.status).toBe(400);
      expect(refused.json.errors?.[0]?.message).toBe(
        'Variable "$currencies" holds 4 items; at most 3 are accepted (server.limits.maxListItems).',
      );
      const literal = await post(
        { query: '{ totals(currencies: ["A", "B", "C", "D"]) { complete } }' },
        small.yoga,
      );
      expect(literal.status).toBe(400);
      const accepted = await post(
        { query: TOTALS, variables: { currencies: codes(3) } },
        small.yoga,
      );
      expect(accepted.json).toEqual({ data: { totals: { complete: true } } });
    } finally {
      await small.close();
    }
  });
});

describe('the list-limit message', () => {
  it('names a variable or key only when it has GraphQL name syntax, never echoing client text', async () => {
    const { oversizedListInVariables } = await import('../src/graphql/use-list-limits.js');
    const canary = 'canary-key\r\n<script>';
    const big = Array.from({ length: 3 }, () => 1);
    const nested = oversizedListInVariables({ ok: { [canary]: big } }, 2);
    expect(nested).toBe(
      'Variable "$ok" holds 3 items at [key 1]; at most 2 are accepted (server.limits.maxListItems).',
    );
    const top = oversizedListInVariables({ [canary]: big }, 2);
    expect(top).toBe(
      'Variable 1 holds 3 items; at most 2 are accepted (server.limits.maxListItems).',
    );
    expect(oversizedListInVariables({ r: [{ tags: big }] }, 2)).toBe(
      'Variable "$r" holds 3 items at [0].tags; at most 2 are accepted (server.limits.maxListItems).',
    );
  });
});
