import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { printSchemaSdl } from '../src/graphql/index.js';

it('schema/schema.graphql is what the code builds (run `npm run schema` after changing it)', () => {
  const checkedIn = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
  expect(printSchemaSdl()).toBe(checkedIn);
});
