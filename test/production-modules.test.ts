import { describe, expect, it } from 'vitest';
import { recordServeModules, writeOneProviderConfig } from './helpers/modules.js';

/** The compiled modules `balance-api serve` loads until it listens, as paths under dist/. */
async function modulesLoadedByServe(args: string[]): Promise<string[]> {
  const { esm } = await recordServeModules(args);
  return esm
    .filter((url) => url.includes('/dist/'))
    .map((url) => url.slice(url.indexOf('/dist/') + '/dist/'.length));
}

/** Simulators, their demo data and the sandbox server: what only the sandbox needs. */
const isSandboxModule = (path: string) =>
  path.startsWith('sandbox/') || /^providers\/[^/]+\/(sandbox|demo)\.js$/.test(path);

describe('production start', () => {
  it('loads no simulator, demo data or sandbox module when a configuration is given', async () => {
    // One provider of every kind would be the same: the kinds' adapters are loaded, never read.
    const configPath = writeOneProviderConfig('balance-modules-config-');
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
