import { execFileSync } from 'node:child_process';

/** The end-to-end suites run the compiled `balance-api` command, so build it once first. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
