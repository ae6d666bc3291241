import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { QueryLimits } from '../config/server.js';
import { useListLimits } from './use-list-limits.js';

/**
 * graphql-armor throws its rejections out of validation, which Yoga would answer as HTTP 200;
 * reported as validation errors instead, they get a 400 and a code like any invalid query.
 */
const asValidationError = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) => context?.reportError(error),
  ],
};

export interface QueryLimitsOptions {
  /** Hide "Did you mean ..." in validation messages, which map the schema for a stranger; default false. */
  hideFieldSuggestions?: boolean;
}

/**
 * The query limits of server.limits, checked before anything runs: depth, aliases, tokens, cost and
 * directives (graphql-armor), and the items of every list a request passes (variables at any
 * depth and literals, which the token limit does not see). Each refusal is HTTP 400 naming its
 * limit.
 */
export function useQueryLimits(limits: QueryLimits, options: QueryLimitsOptions = {}): Plugin {
  const armor = EnvelopArmorPlugin({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, ...asValidationError },
    maxAliases: { n: limits.maxAliases, ...asValidationError },
    maxTokens: { n: limits.maxTokens },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, ...asValidationError },
    maxDirectives: { n: limits.maxDirectives, ...asValidationError },
    blockFieldSuggestion: { enabled: options.hideFieldSuggestions ?? false },
  });
  const listLimits = useListLimits(limits.maxListItems);
  return {
    // Both run where this plugin stands in the list, in this order.
    onPluginInit({ addPlugin }) {
      addPlugin(armor as Plugin);
      addPlugin(listLimits);
    },
  };
}
