import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { createBalanceYoga, startBalanceServer } from '../src/server.js';
import { DASHBOARD_QUERY, demoConfigDocument, startTestApp, type TestApp } from './helpers/app.js';

let app: TestApp;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  app = await startTestApp();
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await app.close();
});

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await app.yoga.fetch('http://balance-api.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...headers,
    },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: JSON.parse(text) as { errors?: { message: string }[]; data?: unknown },
  };
}

const nest = (levels: number) => {
  let selection = '{ id }';
  for (let level = 0; level < levels; level += 1) {
    selection = level % 2 === 0 ? `{ accounts { provider ${selection} } }` : selection;
  }
  return `{ providers ${selection} }`;
};

const CORPUS: [string, string, string | RegExp][] = [
  ['a syntax error', '{ providers { id ', 'Syntax Error: Expected Name, found <EOF>.'],
  ['an unterminated string', '{ provider(id: "pik) { id } }', 'Syntax Error: Unterminated string.'],
  ['an empty document', ' ', 'Syntax Error: Unexpected <EOF>.'],
  ['deep nesting', nest(30), 'Syntax Error: Query depth limit of 12 exceeded, found 32.'],
  [
    'an alias bomb',
    `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: providers { id }`).join(' ')} }`,
    'Syntax Error: Aliases limit of 30 exceeded, found 100.',
  ],
  [
    'a huge document',
    `{ providers { ${'id '.repeat(50_000)}} }`,
    'Syntax Error: Token limit of 2000 exceeded.',
  ],
  [
    'a directive bomb',
    `{ providers ${'@include(if: true) '.repeat(100)}{ id } }`,
    'Syntax Error: Directives limit of 20 exceeded, found 100.',
  ],
  [
    'a Decimal given as a number',
    '{ provider(id: "pik-main") { balances(minTotal: 1.5) { total } } }',
    'Decimal must be a string in plain decimal notation such as "12.50"; received a number',
  ],
  [
    'a Decimal in exponent notation',
    '{ provider(id: "pik-main") { balances(minTotal: "1e3") { total } } }',
    'received a string that is not ("1e3")',
  ],
  [
    'a Decimal that is not a number',
    '{ provider(id: "pik-main") { balances(minTotal: "ten") { total } } }',
    'received a string that is not ("ten")',
  ],
  ['an unknown field', '{ balances { total } }', 'Cannot query field "balances" on type "Query".'],
  [
    'a subscription of a field the Subscription type does not have',
    'subscription { balances { total } }',
    'Cannot query field "balances" on type "Subscription".',
  ],
  [
    'a mutation, which the schema has no type for',
    'mutation M { __typename }',
    'The schema has no mutation type: it runs query and subscription operations only.',
  ],
  [
    'a fragment cycle',
    '{ providers { ...A } } fragment A on Provider { accounts { provider { ...A } } }',
    /Cannot spread fragment "A" within itself|depth limit/,
  ],
];

describe('hostile and broken queries', () => {
  for (const [name, query, message] of CORPUS) {
    it(`rejects ${name} with a clear error, before any upstream call`, async () => {
      app.sandbox.clearCalls();
      const { status, json, text } = await post(JSON.stringify({ query }));
      expect(status).toBe(400);
      expect(json.data).toBeUndefined();
      const messages = (json.errors ?? []).map((error) => error.message).join('\n');
      if (typeof message === 'string') expect(messages).toContain(message);
      else expect(messages).toMatch(message);
      expect(text).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
      expect(app.sandbox.calls()).toHaveLength(0);
    });
  }

  it('rejects a JSON body that is not JSON, without quoting the body', async () => {
    for (const body of ['{bad', '{"query": "{ providers { id } }", "token": "canary-7c1f']) {
      const { status, json, text } = await post(body);
      expect(status).toBe(400);
      expect(json).toEqual({
        errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }],
      });
      expect(text).not.toMatch(/bad|canary|position|SyntaxError/);
    }
    // A 400 whatever the client accepts (graphql-over-http SHOULD).
    expect((await post('{bad', { accept: 'application/json' })).status).toBe(400);
  });

  it('rejects GET and form parameters that are not JSON with a 400, without quoting them', async () => {
    const query = encodeURIComponent('{ providers { id } }');
    const canary = encodeURIComponent('{"token": "canary-51d0');
    for (const parameter of ['variables', 'extensions']) {
      const response = await app.yoga.fetch(
        `http://balance-api.test/graphql?query=${query}&${parameter}=${canary}`,
        { headers: { accept: 'application/graphql-response+json', 'x-graphql-yoga-csrf': '1' } },
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        errors: [
          {
            message: `Expected the "${parameter}" parameter to be JSON; received text that is not valid JSON.`,
            extensions: { code: 'BAD_REQUEST' },
          },
        ],
      });
    }
    const form = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/graphql-response+json',
        'x-graphql-yoga-csrf': '1',
      },
      body: `query=${query}&variables=${canary}`,
    });
    expect(form.status).toBe(400);
    const text = await form.text();
    expect(JSON.parse(text)).toEqual({
      errors: [
        {
          message:
            'Expected the "variables" and "extensions" parameters to be JSON; received text that is not valid JSON.',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
    expect(text).not.toContain('canary');
  });

  it('answers an invalid subscription asked for as server-sent events like any invalid query, not as a 500', async () => {
    app.sandbox.clearCalls();
    const response = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: 'mutation { __typename }' }),
    });
    // Yoga streams every validation error as one event (an unknown field gets the same answer).
    expect(response.status).toBe(200);
    const text = await response.text();
    const event = /event: next\ndata: (.*)\n/.exec(text)?.[1] ?? '';
    expect(JSON.parse(event)).toEqual({
      errors: [
        {
          message:
            'The schema has no mutation type: it runs query and subscription operations only.',
          locations: [{ line: 1, column: 1 }],
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('answers a subscription sent without Accept: text/event-stream with a message naming the transports', async () => {
    app.sandbox.clearCalls();
    const { json } = await post(
      JSON.stringify({ query: 'subscription { balanceEvents { kind } }' }),
    );
    expect(json.errors?.map((error) => error.message)).toEqual([
      'Subscriptions are served over Server-Sent Events (Accept: text/event-stream) or the graphql-transport-ws WebSocket protocol at /graphql.',
    ]);
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('refuses a batch (an array of operations)', async () => {
    const { status, json } = await post(JSON.stringify([{ query: '{ providers { id } }' }]));
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toBe('Batching is not supported.');
  });

  it('answers 413 for a body over the size limit, declared or chunked, over HTTP', async () => {
    const server = await startBalanceServer({
      runtime: app.runtime,
      server: { ...app.config.server, port: 0 },
    });
    try {
      const url = `${server.origin}/graphql`;
      const big = JSON.stringify({
        query: '{ providers { id } }',
        variables: { pad: 'x'.repeat(2_000_000) },
      });
      const declared = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big,
      });
      expect(declared.status).toBe(413);
      expect(await declared.json()).toEqual({
        errors: [
          {
            message: 'Request body is larger than 1048576 bytes',
            extensions: { code: 'PAYLOAD_TOO_LARGE' },
          },
        ],
      });
      // A streamed body has no content-length: it is counted as it is read.
      const stream = (text: string) =>
        new ReadableStream({
          start(controller) {
            for (let i = 0; i < text.length; i += 65_536)
              controller.enqueue(new TextEncoder().encode(text.slice(i, i + 65_536)));
            controller.close();
          },
        });
      const chunked = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream(big),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      const small = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: stream(JSON.stringify({ query: '{ providers { id } }' })),
        duplex: 'half',
      } as RequestInit);
      expect(small.status).toBe(200);
      const answer = (await small.json()) as { data: { providers: { id: string }[] } };
      expect(answer.data.providers[0]).toEqual({ id: 'pik-main' });
    } finally {
      await server.close();
    }
  });

  it('refuses a GET without a CSRF header, which a browser could send from any page', async () => {
    const response = await app.yoga.fetch(
      'http://balance-api.test/graphql?query=%7Bproviders%7Bid%7D%7D',
      {
        headers: { accept: 'application/json' },
      },
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      errors: [{ message: 'Required CSRF header(s) not present' }],
    });
    const allowed = await app.yoga.fetch(
      'http://balance-api.test/graphql?query=%7Bproviders%7Bid%7D%7D',
      {
        headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
      },
    );
    expect(allowed.status).toBe(200);
  });

  it('stays healthy afterwards: the dashboard still answers in full, and nothing was left unhandled', async () => {
    const result = await app.query(DASHBOARD_QUERY);
    expect(result.errors).toBeUndefined();
    expect(result.data?.providers).toHaveLength(6);
    expect(unhandled).toEqual([]);
  });
});

describe('limits are configurable', () => {
  it('applies a configured cost limit', async () => {
    const config = parseConfig(
      {
        server: { limits: { maxCost: 50 } },
        ...demoConfigDocument((kind) => `${app.sandbox.origin}/${kind}`),
      },
      { source: 'test', env: {}, baseDir: '.' },
    );
    const yoga = createBalanceYoga({ runtime: app.runtime, server: config.server });
    const response = await yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query: DASHBOARD_QUERY }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string }[] };
    expect(body.errors[0]?.message).toMatch(
      /^Syntax Error: Query Cost limit of 50 exceeded, found [\d.]+\.$/,
    );
  });
});

describe('the production profile', () => {
  const yogaFor = (server: Record<string, unknown>) => {
    const config = parseConfig(
      { server, ...demoConfigDocument((kind) => `${app.sandbox.origin}/${kind}`) },
      { source: 'test', env: { NODE_ENV: 'production' }, baseDir: '.' },
    );
    return createBalanceYoga({ runtime: app.runtime, server: config.server });
  };
  const ask = (yoga: ReturnType<typeof yogaFor>, query: string) =>
    yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query }),
    });

  it('hides field suggestions, introspection and GraphiQL by default', async () => {
    const yoga = yogaFor({});
    const unknown = (await (await ask(yoga, '{ providerz { id } }')).json()) as {
      errors: { message: string }[];
    };
    expect(unknown.errors[0]?.message).toBe(
      'Cannot query field "providerz" on type "Query". [Suggestion hidden]',
    );
    const introspection = await ask(yoga, '{ __schema { queryType { name } } }');
    expect(introspection.status).toBe(400);
    const page = await yoga.fetch('http://balance-api.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.headers.get('content-type') ?? '').not.toContain('text/html');
  });

  it('turns introspection and GraphiQL on when configured', async () => {
    const yoga = yogaFor({ introspection: true, graphiql: true });
    const introspection = await ask(yoga, '{ __schema { queryType { name } } }');
    expect(await introspection.json()).toEqual({
      data: { __schema: { queryType: { name: 'Query' } } },
    });
    const page = await yoga.fetch('http://balance-api.test/graphql', {
      headers: { accept: 'text/html' },
    });
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('never sends a stack trace, even when NODE_ENV is development', async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      const yoga = yogaFor({ profile: 'development' });
      // An id that makes the resolver fail unexpectedly is hard to find on purpose; a bad variable
      // type exercises the same masking path for request errors.
      const response = await yoga.fetch('http://balance-api.test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
        },
        body: JSON.stringify({
          query: 'query ($id: ID!) { provider(id: $id) { id } }',
          variables: { id: {} },
        }),
      });
      const text = await response.text();
      expect(response.status).toBe(400);
      expect(text).not.toMatch(/stack|\n\s+at /);
    } finally {
      process.env.NODE_ENV = before;
    }
  });
});
