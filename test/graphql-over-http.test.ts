import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { createDemoConfigDocument } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import { type AppRuntime, createAppRuntime } from '../src/tenants.js';

/**
 * The GraphQL-over-HTTP audit suite of the `graphql-http` package, against the real server over
 * HTTP. Every MUST passes; the SHOULD and MAY results are printed (and listed in the README).
 */
let sandbox: Sandbox;
let runtime: AppRuntime;
let server: BalanceServer;
let url = '';

beforeAll(async () => {
  sandbox = await startSandbox();
  const config = parseConfig(
    createDemoConfigDocument((kind) => `${sandbox.origin}/${kind}`),
    {
      source: 'test',
      env: {},
      baseDir: '.',
    },
  );
  runtime = createAppRuntime({ config });
  server = await startBalanceServer({ runtime, server: { ...config.server, port: 0 } });
  url = `${server.origin}/graphql`;
});
afterAll(async () => {
  await server.close();
  await runtime.close();
  await sandbox.close();
});

const audits = serverAudits({ url: () => url, fetchFn: fetch });

describe('GraphQL over HTTP: every MUST audit passes', () => {
  for (const audit of audits.filter((candidate) => candidate.name.startsWith('MUST'))) {
    it(audit.name, async () => {
      const result = await audit.fn();
      expect(
        result.status === 'ok'
          ? 'ok'
          : `${result.status}: ${'reason' in result ? result.reason : ''}`,
      ).toBe('ok');
    });
  }
});

describe('GraphQL over HTTP: SHOULD and MAY audits (reported, not required)', () => {
  it('runs them all and prints their results', async () => {
    const rows: string[] = [];
    for (const audit of audits.filter((candidate) => !candidate.name.startsWith('MUST'))) {
      const result = await audit.fn();
      rows.push(`${result.status === 'ok' ? 'ok  ' : result.status.padEnd(4)} ${audit.name}`);
    }
    console.log(`graphql-http SHOULD/MAY audits:\n${rows.join('\n')}`);
    expect(rows.length).toBeGreaterThan(10);
  });
});
