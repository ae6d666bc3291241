import { type ASTNode, GraphQLError, Kind, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Where the limit comes from, for every message. */
const SETTING = 'server.limits.maxListItems';

/** A value met while walking the variables, and how it was reached (for the message only). */
interface Step {
  value: unknown;
  parent: Step | undefined;
  /** An array index, or an object key as it is named in the message. */
  key: number | string;
}

/** A GraphQL name: only a key of this syntax is quoted; any other is named by its place. */
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** `.name` for a key with GraphQL name syntax, `[key N]` (1-based) for any other. */
function keySegment(key: string, position: number): string {
  return NAME.test(key) ? `.${key}` : `[key ${position}]`;
}

function pathOf(step: Step): string {
  let path = '';
  for (let at: Step | undefined = step; at?.parent !== undefined; at = at.parent) {
    path = `${typeof at.key === 'number' ? `[${at.key}]` : at.key}${path}`;
  }
  return path;
}

/**
 * The first array in the variables with more than `max` items, as a message; undefined when none.
 * Walked with a stack, not recursion, so that a deeply nested value cannot overflow it.
 */
export function oversizedListInVariables(variables: unknown, max: number): string | undefined {
  if (typeof variables !== 'object' || variables === null || Array.isArray(variables)) return;
  let position = 0;
  for (const [name, value] of Object.entries(variables)) {
    position += 1;
    // Never the client's text: an undeclared variable's key can be anything.
    const variable = NAME.test(name) ? `"$${name}"` : `${position}`;
    const stack: Step[] = [{ value, parent: undefined, key: '' }];
    while (stack.length > 0) {
      const step = stack.pop() as Step;
      const { value: current } = step;
      if (typeof current !== 'object' || current === null) continue;
      if (Array.isArray(current)) {
        if (current.length > max) {
          const where = pathOf(step);
          return `Variable ${variable} holds ${current.length} items${where === '' ? '' : ` at ${where}`}; at most ${max} are accepted (${SETTING}).`;
        }
        for (let index = current.length - 1; index >= 0; index -= 1) {
          stack.push({ value: current[index], parent: step, key: index });
        }
      } else {
        let at = 0;
        for (const [key, item] of Object.entries(current)) {
          at += 1;
          stack.push({ value: item, parent: step, key: keySegment(key, at) });
        }
      }
    }
  }
  return undefined;
}

/** A validation rule: no list literal in the document (arguments, defaults) over `max` items. */
export function createListLiteralLimitRule(max: number): ValidationRule {
  return function ListLiteralLimitRule(context) {
    return {
      ListValue(node, _key, parent, _path, ancestors) {
        if (node.values.length <= max) return;
        context.reportError(
          new GraphQLError(
            `${holderOf([...ancestors, parent])} holds ${node.values.length} items; at most ${max} are accepted (${SETTING}).`,
            { nodes: node },
          ),
        );
        // An inner list of an oversized one is not reported again.
        return false;
      },
    };
  };
}

/**
 * What a list literal is given to: the nearest argument, or the variable whose default it is.
 * `lineage` is the visitor's ancestors followed by the direct parent.
 */
function holderOf(lineage: readonly (ASTNode | readonly ASTNode[] | undefined)[]): string {
  for (let index = lineage.length - 1; index >= 0; index -= 1) {
    const ancestor = lineage[index];
    if (ancestor === undefined || Array.isArray(ancestor)) continue;
    const node = ancestor as ASTNode;
    if (node.kind === Kind.ARGUMENT) return `Argument "${node.name.value}"`;
    if (node.kind === Kind.VARIABLE_DEFINITION) {
      return `The default value of variable "$${node.variable.name.value}"`;
    }
  }
  return 'A list in the document';
}

/**
 * Bounds every list a request passes: arrays in the variables at any depth (checked on the
 * parameters, before the document is parsed or validated: HTTP 400 BAD_USER_INPUT), and list
 * literals in the document (a validation rule: HTTP 400). The token limit does not see variables,
 * and a list of currencies or representations would otherwise reach the providers whole.
 */
export function useListLimits(
  /** The most items of any one list: server.limits.maxListItems, default 500. */
  maxListItems: number,
): Plugin {
  const rule = createListLiteralLimitRule(maxListItems);
  return {
    onParams({ params, setResult }) {
      const message = oversizedListInVariables(params.variables, maxListItems);
      if (message === undefined) return;
      setResult({
        errors: [
          new GraphQLError(message, {
            extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
          }),
        ],
      });
    },
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
