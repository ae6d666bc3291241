import { describe, expect, it } from 'vitest';
import { startCommand } from './helpers/process.js';

/** The real command refuses an unusable environment as a configuration problem (exit 2). */
describe('balance-api with an unusable environment', () => {
  it('exits 2 with a configuration message for LOG_LEVEL=bogus, on the sandbox too', async () => {
    const run = startCommand(['serve', '--port', '0'], { LOG_LEVEL: 'bogus' });
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toBe(
      [
        'balance-api: the configuration is not valid.',
        'built-in sandbox: 1 problem',
        '  - LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent',
        '',
      ].join('\n'),
    );
  });

  it('does not echo a --port it cannot use', async () => {
    const run = startCommand(['serve', '--port', 'canary-port-3e1f']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--port: expected a port number from 0 to 65535');
    expect(run.stderr()).not.toContain('canary-port-3e1f');
  });
});
