import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLosslessNumber, parse } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { ContractViolation } from '../src/upstream/errors.js';
import { parseLosslessJson } from '../src/upstream/json.js';

/**
 * parseLosslessJson takes a faster road than lossless-json's parser; its answer, and its
 * refusals, must be lossless-json's own.
 */
function expectSameAsLosslessJson(text: string): void {
  let expected: { value: unknown } | { message: string };
  try {
    expected = { value: parse(text) };
  } catch (error) {
    expected = { message: `the body is not valid JSON (${(error as Error).message})` };
  }
  let actual: { value: unknown } | { message: string };
  try {
    actual = { value: parseLosslessJson(text) };
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    actual = { message: (error as Error).message };
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
