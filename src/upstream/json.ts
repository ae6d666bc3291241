import { isLosslessNumber, LosslessNumber, parse } from 'lossless-json';
import { AMOUNT_BOUNDS, Amount } from '../money.js';
import { ContractViolation } from './errors.js';

/** A JSON value as parsed losslessly: every number is a LosslessNumber holding its exact text. */
export type LosslessJson = unknown;

/** Parses an upstream body keeping every number's exact digits. */
export function parseLosslessJson(text: string): LosslessJson {
  if (text.trim() === '') throw new ContractViolation('the body is empty, expected JSON');
  try {
    return (
      parseNativeLossless(text) ?? parse(text, undefined, { onDuplicateKey: refuseDuplicateKey })
    );
  } catch (error) {
    throw new ContractViolation(`the body is not valid JSON (${whyNotJson(error)})`);
  }
}

/** lossless-json's refusal of a repeated key, without the key: it is text from the body. */
class RepeatedKey extends Error {
  constructor(readonly position: number) {
    super('a key is repeated');
  }
}

function refuseDuplicateKey({ position }: { position: number }): never {
  throw new RepeatedKey(position);
}

/**
 * lossless-json's messages quote the body (a repeated key, a malformed number so far, a bad
 * escape), so only their kind and position are kept, in words of our own.
 */
const JSON_REFUSALS: readonly [prefix: string, reason: string][] = [
  ["Comma ',' expected", 'a comma was expected after a value'],
  ["Colon ':' expected", 'a colon was expected after a key'],
  ['JSON value expected', 'a value was expected'],
  ['Array item expected', 'an array item was expected'],
  ['Expected end of input', 'more text follows the value'],
  ['Invalid number', 'a number is malformed'],
  ['End of string', 'a string is not terminated'],
  ['Quoted object key or end', 'a quoted key or the end of the object was expected'],
  ['Quoted object key expected', 'a quoted key was expected'],
  ['Array item or end', 'an array item or the end of the array was expected'],
  ['Invalid character', 'a string holds a control character'],
  ['Invalid escape character', 'a string holds an invalid escape'],
  ['Object value expected', 'a value was expected after a colon'],
  ['Invalid unicode character', 'a string holds an invalid unicode escape'],
];

/** Why a body is not JSON, with the position where lossless-json says it; never body text. */
function whyNotJson(error: unknown): string {
  if (error instanceof RepeatedKey) return `${error.message}, at position ${error.position}`;
  // lossless-json's parser recurses: a body nested deeper than the stack allows ends here.
  if (error instanceof RangeError) return 'it nests too deeply';
  const message = error instanceof Error ? error.message : '';
  const reason = JSON_REFUSALS.find(([prefix]) => message.startsWith(prefix))?.[1];
  const position = /at position (\d+)$/.exec(message)?.[1];
  if (reason === undefined)
    return position === undefined ? 'unreadable' : `unreadable, at position ${position}`;
  return position === undefined ? reason : `${reason}, at position ${position}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short description of a JSON value's type, for messages; never the value itself. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (isLosslessNumber(value)) return 'a number';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A key short and plain enough to stand in a field path as itself. */
const PLAIN_KEY = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * The path of an object's member whose key comes from the body (e.g. a network code): the key
 * itself when it is a short plain code, else its place among the object's keys, so no message
 * ever carries arbitrary body text.
 */
export function memberPath(where: string, key: string, index: number): string {
  return PLAIN_KEY.test(key) ? `${where}.${key}` : `${where}[key ${index}]`;
}

export function expectRecord(value: unknown, where: string): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new ContractViolation(
      `${where}: expected an object, received ${describeJsonType(value)}`,
    );
  }
  return value;
}

export function expectArray(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new ContractViolation(`${where}: expected an array, received ${describeJsonType(value)}`);
  }
  return value;
}

/**
 * An amount given as a JSON number or as a decimal string, within the bounds of money.ts. A number
 * outside them is refused by its field path, before any decimal is built, and never echoed.
 */
export function readAmount(record: Record<string, unknown>, field: string, where: string): Amount {
  const value = record[field];
  const text = isLosslessNumber(value)
    ? value.value
    : typeof value === 'string'
      ? value
      : undefined;
  const amount = text === undefined ? 'not a number' : Amount.readJsonNumberText(text);
  if (amount instanceof Amount) return amount;
  if (amount === 'out of bounds') {
    const received = typeof value === 'string' ? 'a string holding a number' : 'a number';
    throw new ContractViolation(
      `${where}.${field}: expected an amount of ${AMOUNT_BOUNDS}, received ${received} outside those bounds`,
    );
  }
  const received =
    typeof value === 'string' ? 'a string that is not a number' : describeJsonType(value);
  throw new ContractViolation(`${where}.${field}: expected an amount, received ${received}`);
}

/** Like readAmount, but a missing or null field gives undefined. */
export function readOptionalAmount(
  record: Record<string, unknown>,
  field: string,
  where: string,
): Amount | undefined {
  const value = record[field];
  return value === undefined || value === null ? undefined : readAmount(record, field, where);
}

export function readString(record: Record<string, unknown>, field: string, where: string): string {
  const value = record[field];
  if (typeof value === 'string') return value;
  // Ids are sometimes numbers upstream; their exact text is the id.
  if (isLosslessNumber(value)) return value.value;
  throw new ContractViolation(
    `${where}.${field}: expected a string, received ${describeJsonType(value)}`,
  );
}

export function readOptionalString(
  record: Record<string, unknown>,
  field: string,
  where: string,
): string | undefined {
  const value = record[field];
  return value === undefined || value === null || value === ''
    ? undefined
    : readString(record, field, where);
}

/**
 * The number a code field holds, or undefined; codes are small integers, never money. A number
 * too large for a double (`1e400`) is no code either, so no message ever says "Infinity".
 */
export function readCode(value: unknown): number | undefined {
  const number = isLosslessNumber(value)
    ? Number(value.value)
    : typeof value === 'number'
      ? value
      : undefined;
  return number !== undefined && Number.isFinite(number) ? number : undefined;
}

/** A timestamp string to a Date, or undefined where it is missing or unreadable. */
export function readOptionalDate(record: Record<string, unknown>, field: string): Date | undefined {
  const value = record[field];
  if (typeof value !== 'string' || value === '') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The record as JSON for `Balance.raw`: numbers become strings holding their exact value in plain
 * notation, so no client ever parses them into floats. A number outside the bounds of an amount
 * keeps its own text (as short as the body it came in): it is never expanded.
 */
export function toRawJson(value: unknown): unknown {
  if (isLosslessNumber(value)) {
    return Amount.fromJsonNumberText(value.value)?.toString() ?? value.value;
  }
  if (Array.isArray(value)) return value.map(toRawJson);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = toRawJson(item);
    return out;
  }
  return value;
}

/** The JSON number grammar, for a token the scanner took for a number. */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
/** U+0000 marks a number turned into a string; no decoded JSON string can hold it then. */
const MARK = 0;

/**
 * lossless-json's result, by the native parser: every number token is first quoted with a mark,
 * `JSON.parse` does the rest, and marked strings become LosslessNumbers holding the exact text.
 * It is several times faster than lossless-json's parser and allocates far less, on every
 * upstream body. Undefined (lossless-json decides) when the body could carry a mark of its own
 * (an escaped U+0000), is not valid JSON, or repeats a key: lossless-json refuses a repeated key
 * with another value, where `JSON.parse` would keep the last one silently.
 */
function parseNativeLossless(text: string): LosslessJson | undefined {
  if (text.includes('\\u0000')) return undefined;
  const marked = markNumbers(text);
  if (marked === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(marked.text);
  } catch {
    return undefined;
  }
  const counter = { keys: 0, valid: true };
  const result = unmark(value, counter);
  // Fewer keys than in the text: a key was repeated. A marked key: a number stood as a key.
  // Too deep: lossless-json's to judge.
  return counter.valid && counter.keys === marked.keys ? result : undefined;
}

/**
 * The text with every number token outside strings quoted behind a mark, and how many object
 * keys the text holds (strings followed by a colon). Strings are skipped whole, escapes included,
 * so nothing inside one is touched. Undefined for a number token that breaks JSON's grammar.
 */
function markNumbers(text: string): { text: string; keys: number } | undefined {
  let out = '';
  let copied = 0;
  let keys = 0;
  let i = 0;
  const end = text.length;
  while (i < end) {
    const code = text.charCodeAt(i);
    if (code === 34) {
      // The closing quote: the next one not escaped by an odd run of backslashes.
      let close = text.indexOf('"', i + 1);
      while (close !== -1 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
      if (close === -1) return undefined;
      i = close + 1;
      if (isKey(text, i)) keys += 1;
    } else if (code === 45 || (code >= 48 && code <= 57)) {
      const start = i;
      i += 1;
      while (i < end && isNumberCharacter(text.charCodeAt(i))) i += 1;
      const token = text.slice(start, i);
      if (!JSON_NUMBER.test(token)) return undefined;
      out += `${text.slice(copied, start)}"\\u0000${token}"`;
      copied = i;
    } else {
      i += 1;
    }
  }
  return { text: copied === 0 ? text : out + text.slice(copied), keys };
}

/** True when the quote at `at` follows an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; text.charCodeAt(i) === 92; i -= 1) backslashes += 1;
  return backslashes % 2 === 1;
}

/** Digits, sign, point and exponent: what can continue a number token. */
function isNumberCharacter(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    code === 46 ||
    code === 101 ||
    code === 69 ||
    code === 43 ||
    code === 45
  );
}

/** True when the token that ended at `end` is followed by a colon: an object key. */
function isKey(text: string, end: number): boolean {
  for (let i = end; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 58) return true;
    if (code !== 32 && code !== 10 && code !== 13 && code !== 9) return false;
  }
  return false;
}

/**
 * Deeper than this, lossless-json decides: its parser recurses, so it runs out of stack at some
 * depth, and this road must not answer where it would refuse. Upstream bodies nest a few levels.
 */
const MAX_FAST_DEPTH = 256;

function unmark(value: unknown, counter: { keys: number; valid: boolean }, depth = 0): unknown {
  if (depth > MAX_FAST_DEPTH) {
    counter.valid = false;
    return value;
  }
  if (typeof value === 'string') {
    return value.charCodeAt(0) === MARK ? new LosslessNumber(value.slice(1)) : value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = unmark(value[i], counter, depth + 1);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      counter.keys += 1;
      if (key.charCodeAt(0) === MARK) counter.valid = false;
      const item = record[key];
      const next = unmark(item, counter, depth + 1);
      if (next === item) continue;
      if (key !== '__proto__') record[key] = next;
      // An own "__proto__" property, as JSON.parse made it, not the prototype setter.
      else Object.defineProperty(record, key, { value: next, enumerable: true, writable: true });
    }
  }
  return value;
}
