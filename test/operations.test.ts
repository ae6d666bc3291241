import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerAuthenticator } from '../src/caller-auth.js';
import { parseConfig } from '../src/config/load.js';
import { schema } from '../src/graphql/index.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { operationsManifest } from '../src/schema-files.js';
import { createBalanceYoga } from '../src/server.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const OPERATIONS = new URL('../schema/operations/', import.meta.url);
const files = readdirSync(OPERATIONS)
  .filter((name) => name.endsWith('.graphql'))
  .sort();
const text = (name: string) => readFileSync(new URL(name, OPERATIONS), 'utf8');

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('the operations a frontend uses (schema/operations/)', () => {
  it('has the dashboard, one provider, totals by currency and deposit addresses', () => {
    expect(files).toEqual([
      'dashboard.graphql',
      'deposit-addresses.graphql',
      'provider.graphql',
      'totals-by-currency.graphql',
    ]);
  });

  for (const name of files) {
    it(`${name} is valid against the schema and runs against the sandbox without errors`, async () => {
      const document = parse(text(name));
      expect(validate(schema, document)).toEqual([]);
      const variables = name === 'provider.graphql' ? { id: 'treasury', currencies: ['usdt'] } : {};
      const result = await app.query(text(name), variables);
      expect(result.errors).toBeUndefined();
      expect(Object.keys(result.data ?? {}).length).toBeGreaterThan(0);
    });
  }

  it('schema/operations/manifest.json is the trusted-documents manifest of these files (`npm run schema`)', () => {
    const checkedIn = JSON.parse(readFileSync(new URL('manifest.json', OPERATIONS), 'utf8'));
    expect(checkedIn).toEqual(operationsManifest());
    for (const name of files) {
      expect(checkedIn[createHash('sha256').update(text(name)).digest('hex')]).toBe(text(name));
    }
  });
});

/** A Yoga over the test app's runtime with extra server settings. */
function yogaWith(server: Record<string, unknown>) {
  const config = parseConfig(
    { server, ...createDemoConfigDocument((kind) => `${app.sandbox.origin}/${kind}`) },
    {
      source: 'test',
      env: {},
      baseDir: new URL('../schema/operations/', import.meta.url).pathname,
    },
  );
  return createBalanceYoga({
    runtime: app.runtime,
    authenticator: createCallerAuthenticator(undefined, new Set()),
    server: config.server,
  });
}

describe('trusted documents', () => {
  const post = (yoga: ReturnType<typeof yogaWith>, body: unknown) =>
    yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify(body),
    });
  const hashOf = (name: string) => createHash('sha256').update(text(name)).digest('hex');

  it('are off by default: any valid query runs', async () => {
    const response = await post(yogaWith({}), { query: '{ providers { id } }' });
    expect(response.status).toBe(200);
  });

  it('when a manifest is configured, run only its operations, sent by hash', async () => {
    const yoga = yogaWith({ trustedDocuments: { manifest: { file: 'manifest.json' } } });
    app.sandbox.clearCalls();
    const byApq = await post(yoga, {
      extensions: {
        persistedQuery: { version: 1, sha256Hash: hashOf('totals-by-currency.graphql') },
      },
      variables: { currencies: ['HKD'] },
    });
    expect(await byApq.json()).toEqual({
      data: {
        totals: {
          complete: true,
          missingProviders: [],
          currencies: [{ currency: 'HKD', total: '0.3', available: '0.3' }],
        },
      },
    });
    const byDocumentId = await post(yoga, {
      documentId: hashOf('provider.graphql'),
      variables: { id: 'sms' },
    });
    expect(byDocumentId.status).toBe(200);
    expect(await byDocumentId.json()).toMatchObject({
      data: { provider: { id: 'sms', kind: 'PREPAID' } },
    });

    app.sandbox.clearCalls();
    const arbitrary = await post(yoga, { query: '{ providers { id accounts { id } } }' });
    expect(arbitrary.status).toBe(400);
    expect(await arbitrary.json()).toEqual({
      errors: [
        {
          message:
            'Only trusted documents are accepted: send the SHA-256 of an operation of the manifest',
          extensions: { code: 'PERSISTED_QUERY_ONLY' },
        },
      ],
    });
    const unknown = await post(yoga, { documentId: 'f'.repeat(64) });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toEqual({
      errors: [
        {
          message: 'No trusted document has this hash',
          extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' },
        },
      ],
    });
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('a manifest that is not one stops the start with a clear message', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-manifest-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ notahash: 'query { x }' }));
    expect(() =>
      parseConfig(
        { server: { trustedDocuments: { manifest: { file: 'bad.json' } } }, providers: [] },
        {
          source: 'c',
          env: {},
          baseDir: dir,
        },
      ),
    ).toThrow(
      `server.trustedDocuments.manifest.file: file ${join(dir, 'bad.json')} is not a manifest: expected { "<sha256>": "<document>" }`,
    );
  });
});

describe('CORS', () => {
  const preflight = (yoga: ReturnType<typeof yogaWith>, origin: string) =>
    yoga.fetch('http://balance-api.test/graphql', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });

  it('is off by default: no browser origin is allowed', async () => {
    const response = await preflight(yogaWith({}), 'https://app.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows the configured origins only', async () => {
    const yoga = yogaWith({ cors: { origins: ['https://app.example'] } });
    const allowed = await preflight(yoga, 'https://app.example');
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight(yoga, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    const actual = await yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ providers { id } }' }),
    });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
});
