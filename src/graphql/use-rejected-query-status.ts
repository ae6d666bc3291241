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

/** A request-parsing error as the client sees it: Yoga's message, never the text it could not parse. */
function parseFailure(error: unknown, request: Request): unknown {
  if (error instanceof GraphQLError) {
    // Yoga adds the JSON parser's own message, which quotes the body, as extensions.originalError.
    if (error.extensions?.originalError === undefined) return error;
    const { originalError: _quoted, http, ...extensions } = error.extensions;
    // Without `spec`, Yoga keeps the 400 for clients that accept application/json too, as it did
    // when the original error was attached (graphql-over-http: 400 for a body that is not JSON).
    return new GraphQLError(error.message, {
      extensions: { ...extensions, http: { status: 400 } },
    });
  }
  // JSON.parse of a GET's or a form's `variables` or `extensions` (Yoga lets its error through).
  if (!(error instanceof SyntaxError)) return error;
  let names = ['variables', 'extensions'];
  if (request.method === 'GET') {
    const search = new URL(request.url).searchParams;
    names = names.filter((name) => !isJson(search.get(name)));
  }
  return new GraphQLError(
    `Expected the ${names.map((name) => `"${name}"`).join(' and ')} ${names.length === 1 ? 'parameter' : 'parameters'} to be JSON; received text that is not valid JSON.`,
    { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
  );
}

function isJson(text: string | null): boolean {
  if (!text) return true;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Errors that reject a request before it runs answer HTTP 400 with a code, whichever part of the
 * stack raised them, and never quote what the client sent.
 */
export function useRejectedQueryStatus(): Plugin {
  return {
    // Yoga's request parsers run inside this wrapper, so their errors can be rewritten.
    onRequestParse({ requestParser, setRequestParser }) {
      if (requestParser === undefined) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          throw parseFailure(error, request);
        }
      });
    },
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
