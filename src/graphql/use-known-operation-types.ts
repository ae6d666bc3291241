import { GraphQLError, OperationTypeNode, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const OPERATION_TYPES = [
  OperationTypeNode.QUERY,
  OperationTypeNode.MUTATION,
  OperationTypeNode.SUBSCRIPTION,
];

/**
 * An operation whose root type the schema lacks (a subscription or mutation where it has none) is
 * a validation error. graphql 16 leaves it to execution, where it failed as an unexpected error.
 */
export const KnownOperationTypesRule: ValidationRule = (context) => ({
  OperationDefinition(node) {
    const schema = context.getSchema();
    if (schema.getRootType(node.operation) !== undefined) return;
    const known = OPERATION_TYPES.filter((type) => schema.getRootType(type) !== undefined);
    const runs =
      known.length === 1 ? known[0] : `${known.slice(0, -1).join(', ')} and ${known.at(-1)}`;
    context.reportError(
      new GraphQLError(
        `The schema has no ${node.operation} type: it runs ${runs} operations only.`,
        { nodes: node },
      ),
    );
  },
});

/** Refuses, as a validation error (HTTP 400), an operation of a type the schema does not have. */
export function useKnownOperationTypes(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(KnownOperationTypesRule);
    },
  };
}
