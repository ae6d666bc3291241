import { pointerSegments } from '@hyperjump/json-pointer';
import { isLosslessNumber } from 'lossless-json';
import { isRecord } from '../../upstream/json.js';

/**
 * JSON Pointers (RFC 6901) into upstream answers. `@hyperjump/json-pointer` parses and checks a
 * pointer's syntax (escapes included); nothing in a pointer is ever evaluated. The walk is ours:
 * a lossless parse holds numbers as LosslessNumber objects, which must be leaves (a library walk
 * would read `/value` inside one), and a missing member or a step into a scalar is "nothing"
 * rather than an exception.
 */

/** An array index as RFC 6901 spells it: "0", or digits without a leading zero. */
const ARRAY_INDEX = /^(?:0|[1-9]\d{0,8})$/;

/** A checked pointer: its text as configured and its unescaped reference tokens. */
export interface JsonPointer {
  readonly text: string;
  readonly segments: readonly string[];
  /** Each segment as an array index, where it is one (read once, not on every walk). */
  readonly indexes: readonly (number | undefined)[];
}

/** The pointer `text`, or undefined when it is not RFC 6901 syntax. */
export function parsePointer(text: string): JsonPointer | undefined {
  let segments: string[];
  try {
    segments = [...pointerSegments(text)];
  } catch {
    return undefined;
  }
  const indexes = segments.map((segment) =>
    ARRAY_INDEX.test(segment) ? Number(segment) : undefined,
  );
  return { text, segments, indexes };
}

/** True when `text` is a JSON Pointer. */
export function isPointer(text: string): boolean {
  return parsePointer(text) !== undefined;
}

/**
 * The value at `pointer` in `value`, or undefined where there is none: a member missing (own
 * members only, so `/__proto__` or `/constructor` find nothing), an index out of range or not an
 * index, or a step into a string, number, boolean or null.
 */
export function readPointer(value: unknown, pointer: JsonPointer): unknown {
  let current = value;
  const { segments, indexes } = pointer;
  for (let step = 0; step < segments.length; step += 1) {
    const segment = segments[step] as string;
    if (Array.isArray(current)) {
      const index = indexes[step];
      if (index === undefined) return undefined;
      current = current[index];
    } else if (isRecord(current) && !isLosslessNumber(current)) {
      if (!Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    } else {
      return undefined;
    }
  }
  return current;
}

/** A configured key short and plain enough to stand in a field path as itself. */
const PLAIN_SEGMENT = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * Where a pointer leads from `where`, in the style of every other field path in messages
 * (`body.data[0].balance`). Its segments come from the configuration, never from the body.
 */
export function pointerWhere(where: string, pointer: JsonPointer): string {
  let path = where;
  for (const segment of pointer.segments) {
    if (/^(?:0|[1-9]\d*)$/.test(segment)) path += `[${segment}]`;
    else if (PLAIN_SEGMENT.test(segment)) path += `.${segment}`;
    else path += `[${JSON.stringify(segment)}]`;
  }
  return path;
}
