import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';

/** The error codes of the request log line are the codes the client received. */
describe('the request log line of a refused request', () => {
  const logs = captureLogs();
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ log: logs.log });
  });
  afterAll(() => app.close());

  async function loggedCodes(body: unknown): Promise<{ sent: unknown[]; logged: unknown }> {
    logs.lines.length = 0;
    const response = await app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
      },
      body: JSON.stringify(body),
    });
    const { errors = [] } = (await response.json()) as {
      errors?: { extensions?: { code?: unknown } }[];
    };
    const line = logs.lines
      .map((text) => JSON.parse(text) as { msg: string; errors?: unknown })
      .find((record) => record.msg === 'graphql request');
    return { sent: errors.map((error) => error.extensions?.code), logged: line?.errors };
  }

  it('logs BAD_USER_INPUT for a variable that does not coerce, as the client got it', async () => {
    const { sent, logged } = await loggedCodes({
      query: 'query ($m: Decimal) { providers { balances(minTotal: $m) { total } } }',
      variables: { m: 'ten' },
    });
    expect(sent).toEqual(['BAD_USER_INPUT']);
    expect(logged).toEqual(['BAD_USER_INPUT']);
  });

  it('logs no code for a request that succeeds', async () => {
    expect(await loggedCodes({ query: '{ providers { id } }' })).toEqual({ sent: [], logged: [] });
  });

  it('logs the code of a validation error, which never reaches execution', async () => {
    const { sent, logged } = await loggedCodes({
      query: '{ providers { balances(minTotal: 1) { total } } }',
    });
    expect(sent).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(logged).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });
});
