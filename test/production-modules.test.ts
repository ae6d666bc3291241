import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommand } from './helpers/process.js';

const RECORDER = new URL('./helpers/record-modules.mjs', import.meta.url).pathname;

/** The compiled modules `balance-api serve` loads until it listens, as paths under dist/. */
async function modulesLoadedByServe(args: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'balance-modules-'));
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const command = startCommand(['serve', '--port', '0', ...args], {
    NODE_OPTIONS: `--import=${RECORDER}`,
    BALANCE_API_MODULE_LOG: log,
  });
  try {
    await command.waitForOutput(/GraphiQL at/);
  } finally {
    await command.stop();
  }
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url.includes('/dist/'))
    .map((url) => url.slice(url.indexOf('/dist/') + '/dist/'.length));
}

/** Simulators, their demo data and the sandbox server: what only the sandbox needs. */
const isSandboxModule = (path: string) =>
  path.startsWith('sandbox/') || /^providers\/[^/]+\/(sandbox|demo)\.js$/.test(path);

describe('production start', () => {
  it('loads no simulator, demo data or sandbox module when a configuration is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-modules-config-'));
    const configPath = join(dir, 'balance-api.json');
    // One provider of every kind would be the same: the kinds' adapters are loaded, never read.
    writeFileSync(
      configPath,
      JSON.stringify({
        providers: [
          {
            id: 'sms',
            kind: 'prepaid',
            baseUrl: 'http://127.0.0.1:9/prepaid',
            credentials: { devKey: 'k', devSecret: 's' },
          },
        ],
      }),
    );
    const loaded = await modulesLoadedByServe(['--config', configPath]);
    // The recorder sees the application and every kind's definition...
    expect(loaded).toContain('serve.js');
    expect(loaded).toContain('providers/pik/index.js');
    expect(loaded).toContain('providers/prepaid/index.js');
    // ...and nothing of the sandbox.
    expect(loaded.filter(isSandboxModule)).toEqual([]);
  });

  it('loads the sandbox only when it runs it (no configuration)', async () => {
    const loaded = await modulesLoadedByServe([]);
    expect(loaded).toContain('sandbox/index.js');
    expect(loaded).toContain('providers/pik/sandbox.js');
  });
});
