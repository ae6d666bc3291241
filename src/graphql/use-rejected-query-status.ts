import { type DocumentNode, GraphQLError, Kind, print } from 'graphql';
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

/** The longest value a variable error quotes; anything longer is described, never quoted. */
const MAX_QUOTED_VALUE = 32;

/** How the executors word a variable that did not coerce: the value follows, inspected whole. */
const INVALID_VARIABLE = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /;

/** A value as the executor inspected it: itself when short, else what kind of value it is. */
function describeInspected(text: string): string {
  if (text.length <= MAX_QUOTED_VALUE) return text;
  let kind = `a value of ${text.length} characters`;
  if (text.startsWith('"')) {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'string') kind = `a string of ${value.length} characters`;
    } catch {
      // Not one JSON string: the generic description stands.
    }
  } else if (text.startsWith('[')) kind = 'a list';
  else if (text.startsWith('{')) kind = 'an object';
  return `(${kind}, too long to quote)`;
}

/** The declared type of a variable of the operation that ran, as the client wrote it. */
function declaredType(
  document: DocumentNode,
  operationName: string | null | undefined,
  variable: string,
): string | undefined {
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName && definition.name?.value !== operationName) continue;
    const found = definition.variableDefinitions?.find(
      (node) => node.variable.name.value === variable,
    );
    if (found !== undefined) return print(found.type);
  }
  return undefined;
}

/**
 * A variable that did not coerce, worded without the value it got: graphql-jit (and graphql-js)
 * quote the value whole, so a client's megabyte, or a secret pasted into the wrong variable, would
 * come back in the message and go on into logs. The message keeps the variable's name, a short
 * value or a description of a long one, the declared type, and the scalar's own reason (written by
 * this project, never quoting more than a short value).
 */
function withoutEchoedValue(
  error: GraphQLError,
  document: DocumentNode,
  operationName: string | null | undefined,
): GraphQLError {
  const match = INVALID_VARIABLE.exec(error.message);
  if (match === null) return error;
  const [prefix, variable = ''] = match;
  const rest = error.message.slice(prefix.length);
  const end = rest.indexOf('; Expected');
  const value = end < 0 ? '(not quoted)' : describeInspected(rest.slice(0, end));
  const type = declaredType(document, operationName, variable);
  const reason =
    error.originalError instanceof GraphQLError ? ` ${error.originalError.message}` : '';
  return new GraphQLError(
    `Variable "$${variable}" got invalid value ${value}; Expected ${type === undefined ? 'a value of its declared type' : `type ${type}`}.${reason}`,
    {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      extensions: error.extensions,
    },
  );
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
    // coerce), whichever executor produced it; a variable's error never quotes a long value.
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (!('errors' in result) || result.errors === undefined || 'data' in result) return;
          setResult({
            ...result,
            errors: result.errors.map((error) => {
              const bounded = withoutEchoedValue(error, args.document, args.operationName);
              return bounded.extensions?.http !== undefined
                ? bounded
                : asBadRequest(bounded, 'BAD_USER_INPUT');
            }),
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
