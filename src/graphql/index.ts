import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from '../builder.js';
import './provider.js';
import './account.js';
import './balance.js';
import './totals.js';

/** The executable schema, built once per process. */
export const schema = builder.toSchema();

/** The SDL of schema/schema.graphql. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
