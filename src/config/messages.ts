import { parse as parseLossless } from 'lossless-json';
import type { z } from 'zod';

/**
 * The wording of configuration problems that is not one check's own: the error that lists them,
 * one line per zod issue, and how a failure to read a file or JSON is told. None of them echoes a
 * value from the file, which may be a secret typed in the wrong place.
 */

/** The configuration is wrong; `problems` holds one line per problem, none echoing a secret. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(
      `${source}: ${problems.length === 1 ? '1 problem' : `${problems.length} problems`}\n${problems
        .map((problem) => `  - ${problem}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** One line for one zod issue: the field's path, then what was expected. Never the value. */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const path = issue.path;
  const field = path.length === 0 ? '(top level)' : formatPath(path);
  if (issue.code === 'unrecognized_keys') {
    // A key is named only when it looks like one: a secret pasted as a key is not echoed.
    return issue.keys
      .map((key) =>
        KEY_PATTERN.test(key)
          ? `${formatPath([...path, key])}: unknown key`
          : `${path.length === 0 ? '' : `${formatPath(path)}: `}an unknown key (not shown: it is not a valid key name)`,
      )
      .join('; ');
  }
  if (isMissing(input, path)) {
    // A check across fields may find a default wrong: that is said, not "is required".
    return issue.code === 'custom'
      ? `${field}: ${issue.message} (its default)`
      : `${field}: is required`;
  }
  const value = valueAt(input, path);
  if (issue.code === 'invalid_type') {
    // A number may be shown (no secret is a number); anything else only by its type.
    if (issue.expected === 'int' && typeof value === 'number') {
      return `${field}: expected a whole number, received ${value}`;
    }
    return `${field}: expected ${issue.expected}${value === undefined ? '' : `, received ${typeOf(value)}`}`;
  }
  if ((issue.code === 'too_small' || issue.code === 'too_big') && typeof value === 'number') {
    const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
    const word = issue.code === 'too_small' ? 'least' : 'most';
    const exclusive = issue.inclusive === false ? ' (not included)' : '';
    return `${field}: expected a number of at ${word} ${String(bound)}${exclusive}, received ${value}`;
  }
  return `${field}: ${issue.message}`;
}

/** A JSON value's type as a message names it. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** The document's value at `path`; undefined where there is none. */
function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** What a configuration key looks like; another unknown key is reported without its name. */
const KEY_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$-]{0,63}$/;

/** True when the document has no value at `path` (zod does not report the input itself). */
function isMissing(input: unknown, path: PropertyKey[]): boolean {
  return valueAt(input, path) === undefined;
}

function formatPath(path: PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

/** Why a file could not be read, as its system code (ENOENT, EACCES...), or "unreadable". */
export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'unreadable';
}

/**
 * Where a JSON text stops being JSON, as a line and column. Only the place: the parsers' own
 * messages quote the text around it, which may be a secret typed without its quotes.
 */
export function whereJsonBreaks(text: string): string {
  let position: number | undefined;
  try {
    parseLossless(text);
  } catch (error) {
    const match = /at position (\d+)/.exec(error instanceof Error ? error.message : '');
    position = match === null ? undefined : Number(match[1]);
  }
  if (position === undefined) return 'unreadable';
  const before = text.slice(0, position).split('\n');
  return `unexpected text at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
