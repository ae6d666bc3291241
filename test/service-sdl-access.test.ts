import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { startTestApp, type TestApp } from './helpers/app.js';

/**
 * `_service { sdl }` maps the whole schema, so it is served as introspection is: where
 * introspection is on, and otherwise only to a caller whose API key has `"federation": true`.
 */
const ORDINARY_KEY = 'ordinary-key-5e21';
const GATEWAY_KEY = 'gateway-key-90ac';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const SUBGRAPH_SDL = readFileSync(new URL('../schema/subgraph.graphql', import.meta.url), 'utf8');
const REFUSAL =
  'Introspection is off, and the field "_service" (the subgraph SDL) is served only to callers whose API key has "federation": true.';

let production: TestApp;
let anonymousProduction: TestApp;
let introspective: TestApp;
let development: TestApp;

beforeAll(async () => {
  const keyed = (server: Record<string, unknown>) => (baseUrl: (kind: string) => string) => ({
    server,
    auth: {
      apiKeys: [
        { tenant: 'default', sha256: sha256(ORDINARY_KEY) },
        { tenant: 'default', sha256: sha256(GATEWAY_KEY), federation: true },
      ],
    },
    providers: createDemoConfigDocument(baseUrl).providers,
  });
  production = await startTestApp({ configDocument: keyed({ profile: 'production' }) });
  const shared = { sandbox: production.sandbox };
  anonymousProduction = await startTestApp({
    ...shared,
    configDocument: (baseUrl) => ({
      server: { profile: 'production' },
      ...createDemoConfigDocument(baseUrl),
    }),
  });
  introspective = await startTestApp({
    ...shared,
    configDocument: keyed({ profile: 'production', introspection: true }),
  });
  development = await startTestApp({ ...shared });
});
afterAll(async () => {
  for (const app of [introspective, anonymousProduction, development, production]) {
    await app?.close();
  }
});

async function ask(app: TestApp, query: string, key?: string, variables?: unknown) {
  const response = await app.yoga.fetch('http://balance-api.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      data?: { _service?: { sdl: string }; s?: { sdl: string }; _entities?: unknown[] };
      errors?: { message: string; extensions?: Record<string, unknown> }[];
    },
  };
}

describe('_service { sdl } in the production profile', () => {
  const FORMS = [
    '{ _service { sdl } }',
    '{ s: _service { sdl } }',
    '{ ...F } fragment F on Query { _service { sdl } }',
    '{ ... on Query { _service { __typename } } }',
  ];

  it('is refused to an ordinary API key, in every form, as introspection is', async () => {
    for (const query of FORMS) {
      const { status, body } = await ask(production, query, ORDINARY_KEY);
      expect(status).toBe(400);
      expect(body.data).toBeUndefined();
      expect(body.errors?.map((error) => [error.message, error.extensions?.code])).toEqual([
        [REFUSAL, 'GRAPHQL_VALIDATION_FAILED'],
      ]);
    }
    const introspection = await ask(
      production,
      '{ __schema { queryType { name } } }',
      ORDINARY_KEY,
    );
    expect(introspection.status).toBe(400);
  });

  it('is refused to anonymous callers of a server without auth', async () => {
    const { status, body } = await ask(anonymousProduction, '{ _service { sdl } }');
    expect(status).toBe(400);
    expect(body.errors?.[0]?.message).toBe(REFUSAL);
  });

  it('is served to an API key with "federation": true', async () => {
    const { status, body } = await ask(production, '{ _service { sdl } }', GATEWAY_KEY);
    expect(status).toBe(200);
    expect(body.data?._service?.sdl.trim()).toBe(SUBGRAPH_SDL.trim());
    // Still only to that key: the answer is not cached for the others.
    const again = await ask(production, '{ _service { sdl } }', ORDINARY_KEY);
    expect(again.status).toBe(400);
  });

  it('is served to everyone when introspection is configured on', async () => {
    const { status, body } = await ask(introspective, '{ _service { sdl } }', ORDINARY_KEY);
    expect(status).toBe(200);
    expect(body.data?._service?.sdl.trim()).toBe(SUBGRAPH_SDL.trim());
  });

  it('leaves _entities alone', async () => {
    const { status, body } = await ask(
      production,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Provider { id } } }',
      ORDINARY_KEY,
      { r: [{ __typename: 'Provider', id: 'treasury' }] },
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { _entities: [{ id: 'treasury' }] } });
  });
});

describe('_service { sdl } in the development profile', () => {
  it('is served to anyone, as introspection is', async () => {
    const { status, body } = await ask(development, '{ _service { sdl } }');
    expect(status).toBe(200);
    expect(body.data?._service?.sdl.trim()).toBe(SUBGRAPH_SDL.trim());
  });
});
