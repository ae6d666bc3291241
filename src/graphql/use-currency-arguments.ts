import {
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  getArgumentValues,
  getOperationAST,
  getVariableValues,
  Kind,
  type OperationDefinitionNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { currencyListProblem } from '../currency.js';

/** The argument name that takes currency codes, on whichever field has it. */
const CURRENCIES = 'currencies';

/**
 * Every `currencies` argument of the operation that would run, with a code that is not a currency
 * code: one error each (BAD_USER_INPUT, HTTP 400), naming the field and the item. Fields are found
 * in the operation and every fragment it spreads, aliased or not; the values are the arguments as
 * execution would coerce them (variables, variables inside list literals, their defaults, a single
 * value for a list). What does not coerce is left to execution, which refuses it in its own words.
 */
export function currencyArgumentErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const fields = currencyFieldsOf(schema, document, operation);
  // Most operations (the dashboard's among them) have no such argument: nothing to coerce.
  if (fields.length === 0) return [];
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, {
    maxErrors: 1,
  });
  if (coerced.errors !== undefined) return [];
  const errors: GraphQLError[] = [];
  for (const { field, definition, parent } of fields) {
    let currencies: unknown;
    try {
      currencies = getArgumentValues(definition, field, coerced.coerced)[CURRENCIES];
    } catch {
      continue;
    }
    if (!Array.isArray(currencies)) continue;
    const problem = currencyListProblem(currencies);
    if (problem === undefined) continue;
    errors.push(
      new GraphQLError(`${parent}.${definition.name}(${CURRENCIES}:) ${problem}`, {
        nodes: field.arguments?.find((argument) => argument.name.value === CURRENCIES),
        extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
      }),
    );
  }
  return errors;
}

/** A field of an operation that takes currency codes, with its definition and parent type. */
interface CurrencyField {
  field: FieldNode;
  definition: GraphQLField<unknown, unknown>;
  parent: string;
}

/**
 * The fields of each operation, found once per parsed document (Yoga's parse cache hands back the
 * same document for the same text): a walk with type information costs more than the check.
 */
const currencyFieldsByDocument = new WeakMap<
  DocumentNode,
  Map<OperationDefinitionNode, CurrencyField[]>
>();

/** The `currencies` fields in the operation and every fragment it spreads, aliased or not. */
function currencyFieldsOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): CurrencyField[] {
  let byOperation = currencyFieldsByDocument.get(document);
  const known = byOperation?.get(operation);
  if (known !== undefined) return known;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const fields: CurrencyField[] = [];
  // Each fragment once, however often it is spread; a fresh TypeInfo starts at its type condition.
  const pending: ASTNode[] = [operation];
  const reached = new Set<string>();
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const typeInfo = new TypeInfo(schema);
    visit(
      node,
      visitWithTypeInfo(typeInfo, {
        FragmentSpread(spread) {
          const fragment = fragments.get(spread.name.value);
          if (fragment === undefined || reached.has(fragment.name.value)) return;
          reached.add(fragment.name.value);
          pending.push(fragment);
        },
        Field(field) {
          const definition = typeInfo.getFieldDef();
          const parent = typeInfo.getParentType();
          if (!definition || !parent) return;
          if (!definition.args.some((argument) => argument.name === CURRENCIES)) return;
          fields.push({ field, definition, parent: parent.name });
        },
      }),
    );
  }
  if (byOperation === undefined) {
    byOperation = new Map();
    currencyFieldsByDocument.set(document, byOperation);
  }
  byOperation.set(operation, fields);
  return fields;
}

/**
 * Refuses, before anything executes, a request with a currency code that is not 1 to 20 ASCII
 * letters, digits, `_` or `-` in any `currencies` argument, at any depth: HTTP 400 BAD_USER_INPUT
 * and no data. A code may end up in an upstream request path (pik's Get Balance by Currency), and
 * a check by each resolver would come after the reads of the fields above it.
 */
export function useCurrencyArguments(): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = currencyArgumentErrors(
        args.schema,
        args.document,
        args.operationName,
        args.variableValues,
      );
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
