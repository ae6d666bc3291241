import { execFileSync } from 'node:child_process';

/**
 * The end-to-end suites run the compiled `balance-api` command, so build it once first.
 * BALANCE_API_SKIP_BUILD=1 skips it when dist/ is known to be fresh.
 */
export default function setup(): void {
  if (process.env.BALANCE_API_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
