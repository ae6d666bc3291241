import { printSubgraphSchema } from '@apollo/subgraph';
import {
  defaultFieldResolver,
  type GraphQLSchema,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { builder } from '../builder.js';
import './provider.js';
import './account.js';
import './balance.js';
import './totals.js';
import './subscription.js';

/**
 * The executable schema, built once per process: a Federation v2 subgraph, so gateways can
 * compose it (`_service`, `_entities`) while clients query it directly as well.
 */
export const schema = withPlainFieldReads(
  builder.toSubGraphSchema({
    linkUrl: 'https://specs.apollo.dev/federation/v2.6',
    federationDirectives: ['@key'],
  }),
);

/**
 * Pothos gives an exposed field graphql's default resolver. graphql-jit calls any resolver it is
 * given, with a resolve info built for each call; a field without one it compiles to a plain
 * property read. Both read the same property, so exposed fields lose their resolver here. The
 * view objects of src/graphql/refs.ts carry fields under their GraphQL names for this reason.
 */
function withPlainFieldReads(built: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(built.getTypeMap())) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve === defaultFieldResolver) field.resolve = undefined;
    }
  }
  return built;
}

/** The subgraph SDL a gateway composes (what `_service { sdl }` answers): schema/subgraph.graphql. */
export function printSubgraphSdl(): string {
  return `${printSubgraphSchema(schema).trim()}\n`;
}

/** The SDL of schema/schema.graphql. */
export function printSchemaSdl(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
