import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';

/** The request log line carries the operation name a client sent only when it is a name. */
describe('the request log', () => {
  const logs = captureLogs();
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ log: logs.log });
  });
  afterAll(() => app.close());

  it('logs a GraphQL operation name, and no client text that is not one', async () => {
    const canary = `canary-op ${'x'.repeat(5000)}\r\n`;
    await app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Named { providers { id } }', operationName: 'Named' }),
    });
    await app.yoga.fetch('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ providers { id } }', operationName: canary }),
    });
    const requests = logs.lines.map((line) => JSON.parse(line)).filter((r) => 'operationName' in r);
    expect(requests.map((r) => r.operationName)).toEqual(['Named', null]);
    expect(logs.lines.join('\n')).not.toContain('canary-op');
  });
});
