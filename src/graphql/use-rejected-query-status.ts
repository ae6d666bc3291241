import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Query-limit rejections (depth, aliases, cost, directives) are validation errors: mark them so,
 * so that clients get HTTP 400 and the code GRAPHQL_VALIDATION_FAILED like any invalid query.
 */
export function useRejectedQueryStatus(): Plugin {
  return {
    // A result with errors and no data at all is a request error (e.g. a variable that does not
    // coerce): HTTP 400, whichever executor produced it.
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || result.errors === undefined || 'data' in result) return;
          setResult({
            ...result,
            errors: result.errors.map((error) =>
              error.extensions?.http !== undefined
                ? error
                : new GraphQLError(error.message, {
                    nodes: error.nodes,
                    source: error.source,
                    positions: error.positions,
                    extensions: {
                      ...error.extensions,
                      code: error.extensions?.code ?? 'BAD_USER_INPUT',
                      http: { status: 400 },
                    },
                  }),
            ),
          });
        },
      };
    },
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length === 0 || result.every((error) => error.extensions?.code !== undefined)) {
          return;
        }
        setResult(
          result.map((error) =>
            error.extensions?.code !== undefined
              ? error
              : new GraphQLError(error.message, {
                  nodes: error.nodes,
                  source: error.source,
                  positions: error.positions,
                  extensions: {
                    ...error.extensions,
                    code: 'GRAPHQL_VALIDATION_FAILED',
                    http: { status: 400 },
                  },
                }),
          ),
        );
      };
    },
  };
}
