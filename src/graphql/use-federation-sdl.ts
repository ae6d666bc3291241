import { GraphQLError, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * A validation rule: no `_service` field on the query type. Its SDL maps the whole schema, so a
 * caller that may not introspect may not read it either.
 */
export const ServiceSdlForFederationOnlyRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value !== '_service') return;
    // Through aliases, fragments and inline fragments alike: the field's parent type decides.
    if (context.getParentType() !== context.getSchema().getQueryType()) return;
    context.reportError(
      new GraphQLError(
        'Introspection is off, and the field "_service" (the subgraph SDL) is served only to callers whose API key has "federation": true.',
        { nodes: node },
      ),
    );
  },
});

export interface FederationSdlOptions {
  /** Whether introspection is on for the server (server.introspection): then everyone may. */
  introspection: boolean;
  /** Whether the request's caller authenticated as a federation gateway. */
  isFederationCaller(request: Request): boolean;
}

/**
 * `_service { sdl }` is answered where introspection is on, and otherwise only to federation
 * gateways (an API key with `"federation": true`); anyone else gets the validation error (HTTP 400)
 * introspection gets. `_entities` is not affected.
 */
export function useFederationSdl(options: FederationSdlOptions): Plugin {
  if (options.introspection) return {};
  return {
    onValidate({ addValidationRule, context }) {
      const { request } = context as { request?: Request };
      if (request !== undefined && options.isFederationCaller(request)) return;
      // Yoga caches validation per document and set of rules, so the two answers never mix.
      addValidationRule(ServiceSdlForFederationOnlyRule);
    },
  };
}
