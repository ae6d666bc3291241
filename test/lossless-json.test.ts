import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLosslessNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { ContractViolation } from '../src/upstream/errors.js';
import { parseLosslessJson, readCode } from '../src/upstream/json.js';

/** The wording of a refusal: a fixed reason and the position, never text from the body. */
const REFUSAL = /^the body is not valid JSON \(([a-z ]+?)(?:, at position (\d+))?\)$/;

/**
 * parseLosslessJson takes a faster road than lossless-json's parser; its answer must be
 * lossless-json's own, and it must refuse what lossless-json refuses, at the same position, in
 * words of its own (lossless-json quotes the body: a repeated key, a malformed number).
 */
function expectSameAsLosslessJson(text: string): void {
  let expected: { value: unknown } | { position: string | undefined };
  try {
    expected = { value: parse(text) };
  } catch (error) {
    expected = { position: /at position (\d+)$/.exec((error as Error).message)?.[1] };
  }
  let actual: { value: unknown } | { position: string | undefined };
  try {
    actual = { value: parseLosslessJson(text) };
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    const refusal = REFUSAL.exec((error as Error).message);
    expect(refusal, (error as Error).message).not.toBeNull();
    actual = { position: refusal?.[2] };
  }
  expect(actual).toEqual(expected);
}

/** Every number in a parsed value, as the text it holds. */
function numberTexts(value: unknown, out: string[] = []): string[] {
  if (isLosslessNumber(value)) out.push(value.value);
  else if (Array.isArray(value)) for (const item of value) numberTexts(item, out);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) numberTexts(item, out);
  return out;
}

describe('parseLosslessJson agrees with lossless-json', () => {
  it('on every provider fixture', () => {
    const root = new URL('./fixtures/', import.meta.url).pathname;
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) =>
      file.endsWith('.json'),
    );
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) expectSameAsLosslessJson(readFileSync(join(root, file), 'utf8'));
  });

  it('keeps every digit and the exact text of every number', () => {
    const text =
      '{"a":12386.00,"b":[-0,0.0,1e400,-1.5E-7,9007199254740993,0.000000000000000001],"c":{"d":-0.00}}';
    const value = parseLosslessJson(text);
    expect(numberTexts(value)).toEqual([
      '12386.00',
      '-0',
      '0.0',
      '1e400',
      '-1.5E-7',
      '9007199254740993',
      '0.000000000000000001',
      '-0.00',
    ]);
    expectSameAsLosslessJson(text);
  });

  it.each([
    ['digits and quotes inside strings', '{"id":"12\\"34","note":"5 apples, 6.5 kg","x":7}'],
    ['escapes and unicode', '{"s":"\\u0031\\u00e9\\n\\t\\\\","\\u006b":1,"é":"ü"}'],
    ['a colon inside a string value', '{"a":"b:","c":":","d":2}'],
    ['backslashes before a closing quote', '{"a":"x\\\\","b":"y\\\\\\"1","c":3}'],
    ['"__proto__" as a key', '{"__proto__":1.50,"x":{"__proto__":{"y":2}}}'],
    ['a key repeated with the same value', '{"a":1.0,"a":1.0}'],
    ['whitespace everywhere', ' \n\t{ "a" :\r\n 1 , "b" : [ 2 , { } , [ ] ] } \n'],
    ['empty containers and literals', '[{},[],true,false,null,"",0]'],
    ['an empty key', '{"":1}'],
    ['a body that names U+0000 itself', '{"a":"\\u0000x","b":1.10}'],
  ])('on %s', (_name, text) => {
    expectSameAsLosslessJson(text);
  });

  it.each([
    ['a key repeated with another value', '{"a":1,"b":{"c":2,"c":3}}'],
    ['a number as a key', '{1:2}'],
    ['a leading zero', '[01]'],
    ['a trailing comma', '[1,]'],
    ['an unterminated string', '{"a":"bc'],
    ['a missing colon', '{"a" 1}'],
    ['a bare point', '[1.]'],
    ['a lone minus', '[-]'],
    ['two values in a row', '[1 2]'],
    ['a stray brace', '{"a":1}}'],
    ['a raw control character in a string', '["a\u0001b"]'],
    ['a single-quoted string', "{'a':1}"],
  ])('refuses %s as lossless-json does', (_name, text) => {
    expect(() => parseLosslessJson(text)).toThrow(ContractViolation);
    expectSameAsLosslessJson(text);
  });

  it.each([600, 9000])('on arrays nested %i deep', (depth) => {
    expectSameAsLosslessJson(`${'['.repeat(depth)}1.50${']'.repeat(depth)}`);
  });

  it('on thousands of generated documents', () => {
    // A small seeded generator, so a failure is reproducible.
    let seed = 20261121;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const numbers = [
      '0',
      '-0',
      '1.50',
      '-12.000',
      '1e5',
      '2E-3',
      '-0.0e+10',
      '123456789012345678901',
    ];
    const strings = ['', 'a', '12', '"q"', 'x\\y', 'é', '{[1,2]}', ':', ',', '\u2028', '\t'];
    const space = () => pick(['', '', ' ', '\n ', '\t']);
    const gen = (depth: number): string => {
      const roll = random();
      if (depth > 3 || roll < 0.35) return pick(numbers);
      if (roll < 0.55) return JSON.stringify(pick(strings));
      if (roll < 0.6) return pick(['true', 'false', 'null']);
      const size = Math.floor(random() * 4);
      if (roll < 0.8)
        return `[${Array.from({ length: size }, () => space() + gen(depth + 1) + space()).join(',')}]`;
      // Keys from a small set, so some objects repeat a key.
      const keys = Array.from({ length: size }, () =>
        JSON.stringify(pick(['a', 'b', 'c', '1', '__proto__', 'd"e'])),
      );
      return `{${keys.map((key) => `${space()}${key}${space()}:${space()}${gen(depth + 1)}`).join(',')}}`;
    };
    for (let i = 0; i < 3000; i += 1) expectSameAsLosslessJson(gen(0));
  });
});

describe('parseLosslessJson refusals carry no text of the body', () => {
  const refusal = (text: string): string => {
    try {
      parseLosslessJson(text);
    } catch (error) {
      expect(error).toBeInstanceOf(ContractViolation);
      return (error as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('names a repeated key by its position only, however long the key', () => {
    const key = 'k'.repeat(100 * 1024);
    const text = `{"${key}":1,"${key}":2}`;
    expect(refusal(text)).toBe(
      `the body is not valid JSON (a key is repeated, at position ${key.length + 7})`,
    );
    const canary = 'canary-upstream-key-5e1f';
    const message = refusal(`{"a":{"${canary}":1,"${canary}":[2]}}`);
    expect(message).toBe('the body is not valid JSON (a key is repeated, at position 36)');
    expect(message).not.toContain(canary);
  });

  it.each([
    ['a malformed number', `[${'7'.repeat(100_000)}e]`, 'a number is malformed', 100_002],
    ['a bad escape', '["canary\\q"]', 'a string holds an invalid escape', 8],
    ['a bad unicode escape', '["canary\\u12zz"]', 'a string holds an invalid unicode escape', 8],
    ['a raw control character', '["canary\u0001"]', 'a string holds a control character', 8],
    ['a stray word', '{"canary": canary}', 'a value was expected after a colon', 11],
  ])('words %s in its own terms', (_name, text, reason, position) => {
    const message = refusal(text);
    expect(message).toBe(`the body is not valid JSON (${reason}, at position ${position})`);
    expect(message).not.toMatch(/canary|777/);
  });
});

describe('readCode', () => {
  it('reads a code, and takes a number too large for a double for no code at all', () => {
    expect(readCode(parseLosslessJson('401'))).toBe(401);
    expect(readCode(parseLosslessJson('200.0'))).toBe(200);
    expect(readCode(parseLosslessJson('1e400'))).toBeUndefined();
    expect(readCode(parseLosslessJson('-1e400'))).toBeUndefined();
    expect(readCode('200')).toBeUndefined();
  });
});
