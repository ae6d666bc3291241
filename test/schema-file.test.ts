import { readFileSync } from 'node:fs';
import type { GraphQLObjectType } from 'graphql';
import { expect, it } from 'vitest';
import { printSchemaSdl } from '../src/graphql/index.js';

it('schema/schema.graphql is what the code builds (run `npm run schema` after changing it)', () => {
  const checkedIn = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
  expect(printSchemaSdl()).toBe(checkedIn);
});

it('exposed fields have no resolver, so graphql-jit compiles them to property reads', async () => {
  const { schema } = await import('../src/graphql/index.js');
  const resolverOf = (type: string, field: string) =>
    (schema.getType(type) as GraphQLObjectType).getFields()[field]?.resolve;
  for (const field of ['currency', 'network', 'total', 'available', 'components', 'fetchedAt'])
    expect(resolverOf('Balance', field), `Balance.${field}`).toBeUndefined();
  for (const field of ['id', 'name', 'suppressed'])
    expect(resolverOf('Account', field)).toBeUndefined();
  // Fields that compute something keep their resolvers.
  expect(resolverOf('Account', 'balances')).toBeTypeOf('function');
  expect(resolverOf('Balance', 'raw')).toBeTypeOf('function');
});

it('schema/config.schema.json is the JSON Schema the configuration schemas give (run `npm run schema`)', async () => {
  const { configJsonSchema } = await import('../src/config/json-schema.js');
  const checkedIn = readFileSync(new URL('../schema/config.schema.json', import.meta.url), 'utf8');
  expect(`${JSON.stringify(configJsonSchema(), null, 2)}\n`).toBe(checkedIn);
});

it('the JSON Schema describes every kind of provider and lets a file name it in "$schema"', async () => {
  const { configJsonSchema } = await import('../src/config/json-schema.js');
  const { PROVIDER_KINDS } = await import('../src/providers/kinds.js');
  const { parseConfig } = await import('../src/config/load.js');
  const schema = configJsonSchema() as {
    properties: Record<string, unknown>;
    $defs: { provider: { oneOf: { properties: { kind: { const: string } } }[] } };
  };
  expect(schema.$defs.provider.oneOf.map((entry) => entry.properties.kind.const)).toEqual([
    ...PROVIDER_KINDS,
  ]);
  expect(Object.keys(schema.properties)).toContain('$schema');
  const config = parseConfig(
    { $schema: './schema/config.schema.json', providers: [] },
    { source: 'c', env: {}, baseDir: '.' },
  );
  expect(config.tenants).toHaveLength(1);
});
