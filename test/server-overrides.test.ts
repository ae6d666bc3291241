import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyServerOverrides,
  loadConfigFromEnvironment,
  parseConfig,
} from '../src/config/load.js';

const document = {
  server: { host: '127.0.0.2', port: 4100 },
  providers: [
    {
      id: 'sms',
      kind: 'prepaid',
      baseUrl: 'https://sms.example',
      credentials: { devKey: 'k', devSecret: 's' },
    },
  ],
};

describe('the server overrides: HOST and PORT, then --host and --port', () => {
  it('applies --host after HOST, in the one function that applies them all', () => {
    const config = parseConfig(document, { source: 'test', env: {}, baseDir: tmpdir() });
    const env = { HOST: '127.0.0.3', PORT: '4200' };
    expect(applyServerOverrides(config, { env }).server).toMatchObject({
      host: '127.0.0.3',
      port: 4200,
    });
    expect(
      applyServerOverrides(config, { env, host: '127.0.0.4', port: 4300 }).server,
    ).toMatchObject({ host: '127.0.0.4', port: 4300 });
    // The file's values stay where nothing overrides them.
    expect(applyServerOverrides(config, { env: {} }).server).toMatchObject({
      host: '127.0.0.2',
      port: 4100,
    });
  });

  it('applies --host to the file that --config names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'balance-overrides-'));
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(document));
    const config = loadConfigFromEnvironment({
      configPath: path,
      env: { HOST: '127.0.0.3' },
      host: '127.0.0.4',
    });
    expect(config?.server.host).toBe('127.0.0.4');
  });
});
