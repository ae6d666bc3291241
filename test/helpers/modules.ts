import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCommand } from './process.js';

const RECORDER = new URL('./record-modules.mjs', import.meta.url).pathname;
const CJS_RECORDER = new URL('./record-required.cjs', import.meta.url).pathname;

/**
 * A configuration file, in a new temporary folder named from `prefix`, of one prepaid provider
 * where nothing listens: enough for `serve` to start, never read. Returns the file's path.
 */
export function writeOneProviderConfig(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const configPath = join(dir, 'balance-api.json');
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
  return configPath;
}

/** What one run of `balance-api serve` loaded, and how it exited. */
export interface ServeModules {
  /** The URL of every ES module, in load order. */
  esm: string[];
  /** The path of every CommonJS module (a require inside a package included), at exit. */
  commonJs: string[];
  exitCode: number | null;
}

/**
 * Runs `balance-api serve --port 0 ...args` with `env` and both module recorders, calls
 * `whileListening` with its origin once it listens, then stops it (SIGTERM, its drain awaited).
 */
export async function recordServeModules(
  args: string[],
  env: Record<string, string> = {},
  whileListening: (origin: string) => Promise<void> = async () => {},
): Promise<ServeModules> {
  const dir = mkdtempSync(join(tmpdir(), 'balance-modules-log-'));
  const log = join(dir, 'modules.log');
  writeFileSync(log, '');
  const required = join(dir, 'required.log');
  writeFileSync(required, '');
  const command = startCommand(['serve', '--port', '0', ...args], {
    NODE_OPTIONS: `--import=${RECORDER} --require=${CJS_RECORDER}`,
    BALANCE_API_MODULE_LOG: log,
    BALANCE_API_REQUIRED_LOG: required,
    ...env,
  });
  try {
    const [, origin] = await command.waitForOutput(/GraphiQL at (\S+)\/graphql/);
    await whileListening(origin as string);
  } finally {
    await command.stop();
  }
  return {
    esm: readFileSync(log, 'utf8').split('\n'),
    commonJs: readFileSync(required, 'utf8').split('\n'),
    exitCode: await command.exited,
  };
}
