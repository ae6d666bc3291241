import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { parseConfig } from '../src/config/load.js';
import { printSchemaSdl } from '../src/graphql/index.js';
import { PROVIDER_KIND_DEFINITIONS, PROVIDER_KINDS } from '../src/providers/kinds.js';
import { createAdapter } from '../src/providers/registry.js';
import { createMovableClock } from '../src/sandbox/clock.js';
import { SANDBOX_KINDS } from '../src/sandbox/kinds.js';
import { startSandboxServer } from '../src/sandbox/server.js';
import { TokenCacheByTenantAndProvider } from '../src/upstream/token-cache.js';
import { standalone } from './helpers/adapter.js';

/**
 * The checklist of "Adding a provider kind" (README): every kind of the kinds list has each part
 * of its definition, and the parts fit together.
 */

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const SDL = printSchemaSdl();
const dispatcher = new Agent();
afterAll(() => dispatcher.close());

/** The values of the printed schema's ProviderKind enum. */
function enumValues(sdl: string): string[] {
  const body = /enum ProviderKind \{([^}]*)\}/.exec(sdl)?.[1] ?? '';
  return body
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^[A-Z_]+$/.test(line));
}

/** The README's row of a kind in the kind table of "Configuration". */
function readmeRow(kind: string): string | undefined {
  return README.split('\n').find((line) => line.startsWith(`| \`${kind}\` |`));
}

/** The keys of a kind's `paths`, from its configuration schema. */
function pathKeys(schema: z.ZodType): string[] {
  const paths = (schema as unknown as z.ZodObject).shape.paths as z.ZodDefault<z.ZodObject>;
  return Object.keys(paths.unwrap().shape);
}

describe('the kinds list', () => {
  it('names each kind once, in both lists (production and sandbox)', () => {
    expect(new Set(PROVIDER_KINDS).size).toBe(PROVIDER_KINDS.length);
    expect(Object.keys(SANDBOX_KINDS).sort()).toEqual([...PROVIDER_KINDS].sort());
  });

  it('is the GraphQL enum ProviderKind, value for value', () => {
    expect(enumValues(SDL)).toEqual(
      PROVIDER_KIND_DEFINITIONS.map((definition) => definition.graphql.value).sort(),
    );
  });
});

describe.each(PROVIDER_KIND_DEFINITIONS.map((definition) => [definition.name, definition]))(
  'kind %s',
  (name, definition) => {
    const sandbox = SANDBOX_KINDS[definition.name];

    it('has a name, a GraphQL enum value and a default display name', () => {
      expect(name).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(definition.graphql.value).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(definition.defaultName.trim()).not.toBe('');
    });

    it('has a default path for every `paths` key of its configuration schema', () => {
      const keys = pathKeys(definition.configSchema);
      expect(keys.length).toBeGreaterThan(0);
      expect(Object.keys(definition.defaultPaths).sort()).toEqual([...keys].sort());
      for (const path of Object.values(definition.defaultPaths)) expect(path).toMatch(/^\//);
    });

    it('has a README row in the kind table, with its default paths', () => {
      const row = readmeRow(name);
      expect(row, `README.md has no row "| \`${name}\` | ..." in its kind table`).toBeDefined();
      for (const [key, path] of Object.entries(definition.defaultPaths)) {
        expect(row).toContain(`\`${key}\` \`${path}\``);
      }
    });

    it('has normalization fixtures in test/fixtures/<kind>/', () => {
      const folder = new URL(`./fixtures/${name}/`, import.meta.url);
      expect(existsSync(folder), `no folder test/fixtures/${name}/`).toBe(true);
      const files = readdirSync(folder).filter((file) => file.endsWith('.json'));
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) {
        const fixture = JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as object;
        expect(Object.keys(fixture)).toEqual(expect.arrayContaining(['description', 'raw']));
        expect(fixture).toHaveProperty('expected');
      }
    });

    it('has a simulator, demo data, demo providers and the credential headers to redact', () => {
      const simulator = sandbox.createSimulator(sandbox.demoData() as never, createMovableClock());
      expect(simulator.kind).toBe(name);
      const providers = sandbox.demoProviders(`http://sandbox.test/${name}`);
      expect(providers.length).toBeGreaterThan(0);
      for (const provider of providers) expect(provider.kind).toBe(name);
      expect(sandbox.redactHeaders.length).toBeGreaterThan(0);
      for (const header of sandbox.redactHeaders) expect(header).toBe(header.toLowerCase());
    });

    it('reads its demo data through its adapter, its default paths and its simulator', async () => {
      const clock = createMovableClock();
      const simulator = sandbox.createSimulator(sandbox.demoData() as never, clock);
      const server = await startSandboxServer({ simulators: [simulator], clock });
      try {
        const config = parseConfig(
          { providers: sandbox.demoProviders(server.baseUrl(definition.name)) },
          { source: 'test', env: {}, baseDir: process.cwd() },
        );
        const tokens = new TokenCacheByTenantAndProvider({ now: clock.now });
        for (const provider of config.tenants[0]?.providers ?? []) {
          expect(provider.kind).toBe(name);
          const adapter = standalone(
            createAdapter({
              tenantId: 't',
              config: provider,
              dispatcher,
              tokens: tokens.slot('t', provider.id),
              now: clock.now,
            }),
          );
          expect(adapter.kind).toBe(name);
          const accounts = await adapter.fetchAccounts({ currencies: null });
          expect(accounts.flatMap((account) => account.balances).length).toBeGreaterThan(0);
        }
        const calls = server.calls(definition.name);
        // Every call went to a default path, and the kind tells its logins apart.
        const defaults = Object.values(definition.defaultPaths);
        for (const call of calls) {
          expect(defaults.some((path) => call.path === path || path.includes('{'))).toBe(true);
        }
        expect(calls.filter((call) => !sandbox.isLogin(call.path)).length).toBeGreaterThan(0);
        // A kind with a login (its simulator says where the token is) has a default login path.
        expect(defaults.some((path) => sandbox.isLogin(path))).toBe(
          simulator.loginTokenPath !== undefined,
        );
      } finally {
        await server.close();
      }
    });
  },
);
