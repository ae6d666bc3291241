import { afterEach, describe, expect, it, vi } from 'vitest';

/** Every read of GraphiQL's default query (schema/operations/dashboard.graphql), sync or not. */
const dashboardReads: string[] = [];

function record(path: unknown): void {
  if (String(path).endsWith('dashboard.graphql')) dashboardReads.push(String(path));
}

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    readFileSync: (...args: Parameters<typeof fs.readFileSync>) => {
      record(args[0]);
      return fs.readFileSync(...args);
    },
  };
});

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    readFile: (...args: Parameters<typeof fs.readFile>) => {
      record(args[0]);
      return fs.readFile(...args);
    },
  };
});

const { parseConfig } = await import('../src/config/load.js');
const { createAppRuntime } = await import('../src/tenants.js');
const { createBalanceYoga } = await import('../src/server.js');

const runtimes: { close(): Promise<void> }[] = [];
afterEach(async () => {
  dashboardReads.length = 0;
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});

function yogaWith(graphiql: boolean) {
  const config = parseConfig(
    { server: { graphiql }, providers: [] },
    { source: 'test', env: {}, baseDir: '.' },
  );
  const runtime = createAppRuntime({ config });
  runtimes.push(runtime);
  return createBalanceYoga({ runtime, server: config.server });
}

async function page(yoga: ReturnType<typeof yogaWith>): Promise<Response> {
  return yoga.fetch('http://balance-api.test/graphql', { headers: { accept: 'text/html' } });
}

describe("GraphiQL's default query", () => {
  it('is not read where GraphiQL is off, at start-up or on a request for the page', async () => {
    const yoga = yogaWith(false);
    const response = await page(yoga);
    expect(response.headers.get('content-type') ?? '').not.toContain('text/html');
    expect(dashboardReads).toEqual([]);
  });

  it('is read once, on the first visit, where GraphiQL is on', async () => {
    const yoga = yogaWith(true);
    expect(dashboardReads).toEqual([]);
    const first = await (await page(yoga)).text();
    const second = await (await page(yoga)).text();
    expect(first).toContain('query Dashboard');
    expect(second).toBe(first);
    expect(dashboardReads).toHaveLength(1);
  });
});
