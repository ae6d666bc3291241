import { readFileSync } from 'node:fs';
import type { NormalizedAccount } from '../../src/providers/adapter.js';
import { parseLosslessJson, toRawJson } from '../../src/upstream/json.js';

/**
 * A normalization fixture: test/fixtures/<kind>/<name>.json holds
 * `{ "description": "...", "raw": <the upstream body>, "expected": <plain accounts> }`.
 * The file is parsed losslessly, so `raw` keeps every digit of its numbers.
 */
export interface NormalizationFixture {
  description: string;
  raw: unknown;
  /** Extra input some kinds need (e.g. the configured currency). */
  options?: Record<string, unknown>;
  expected: unknown;
}

export function loadFixture(kind: string, name: string): NormalizationFixture {
  const text = readFileSync(new URL(`../fixtures/${kind}/${name}.json`, import.meta.url), 'utf8');
  const fixture = parseLosslessJson(text) as NormalizationFixture;
  // Only `raw` needs lossless numbers; the rest compares as plain JSON.
  return { ...fixture, expected: JSON.parse(text).expected, options: JSON.parse(text).options };
}

/**
 * Normalized accounts as plain JSON: amounts as their exact strings, dates as ISO strings, and
 * `raw` as `Balance.raw` shows it (numbers as exact decimal strings).
 */
export function plainAccounts(accounts: NormalizedAccount[]): unknown {
  const shown = accounts.map((account) => ({
    ...account,
    balances: account.balances.map((balance) => ({ ...balance, raw: toRawJson(balance.raw) })),
  }));
  return JSON.parse(
    JSON.stringify(shown, (_key, value: unknown) => (value === undefined ? null : value)),
  );
}
