import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from '../builder.js';
import './provider.js';
import './account.js';
import './balance.js';
import './totals.js';

/**
 * The executable schema, built once per process: a Federation v2 subgraph, so gateways can
 * compose it (`_service`, `_entities`) while clients query it directly as well.
 */
export const schema = builder.toSubGraphSchema({
  linkUrl: 'https://specs.apollo.dev/federation/v2.6',
  federationDirectives: ['@key'],
});

/** The subgraph SDL a gateway composes (what `_service { sdl }` answers): schema/subgraph.graphql. */
export function printSubgraphSdl(): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}

/** The SDL of schema/schema.graphql. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
