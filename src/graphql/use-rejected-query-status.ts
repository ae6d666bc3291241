import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** The same error as a request error: HTTP 400 and a code (its own, if it has one). */
function asBadRequest(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: {
      ...error.extensions,
      code: error.extensions?.code ?? code,
      http: { status: 400 },
    },
  });
}

/**
 * Errors that reject a request before it runs answer HTTP 400 with a code, whichever part of the
 * stack raised them.
 */
export function useRejectedQueryStatus(): Plugin {
  return {
    // A result with errors and no data at all is a request error (e.g. a variable that does not
    // coerce), whichever executor produced it.
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || result.errors === undefined || 'data' in result) return;
          setResult({
            ...result,
            errors: result.errors.map((error) =>
              error.extensions?.http !== undefined ? error : asBadRequest(error, 'BAD_USER_INPUT'),
            ),
          });
        },
      };
    },
    // Query-limit rejections (depth, aliases, cost, directives) are validation errors: marked so,
    // they get the code GRAPHQL_VALIDATION_FAILED like any invalid query.
    onValidate() {
      return ({ result, setResult }) => {
        if (result.every((error) => error.extensions?.code !== undefined)) return;
        setResult(
          result.map((error) =>
            error.extensions?.code !== undefined
              ? error
              : asBadRequest(error, 'GRAPHQL_VALIDATION_FAILED'),
          ),
        );
      };
    },
  };
}
