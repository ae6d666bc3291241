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
