import { graphql } from 'graphql';
import { describe, expect, it } from 'vitest';
import { builder } from '../src/builder.js';
import { Amount, sumAmounts } from '../src/money.js';

// A tiny schema over the real Decimal scalar, to test its input and output as a client sees them.
builder.queryField('echoDecimal', (t) =>
  t.field({
    type: 'Decimal',
    args: { value: t.arg({ type: 'Decimal', required: true }) },
    resolve: (_root, args) => args.value,
  }),
);
const { schema } = await import('../src/graphql/index.js');

async function echo(literal: string) {
  return graphql({ schema, source: `{ echoDecimal(value: ${literal}) }`, contextValue: {} });
}

async function echoVariable(value: unknown) {
  return graphql({
    schema,
    source: 'query ($v: Decimal!) { echoDecimal(value: $v) }',
    variableValues: { v: value },
    contextValue: {},
  });
}

describe('Decimal', () => {
  it.each([
    ['huge', '9007199254740993.01'],
    ['larger than any float keeps', '123456789012345678901234567890.123456789012345678'],
    ['tiny', '0.000000000000000001'],
    ['negative', '-5'],
    ['negative fraction', '-0.001'],
    ['trailing zeros', '12386.00'],
    ['zero with places', '0.00'],
  ])('round-trips %s (%s) as the same plain string', async (_name, text) => {
    expect((await echo(JSON.stringify(text))).data).toEqual({ echoDecimal: text });
    expect((await echoVariable(text)).data).toEqual({ echoDecimal: text });
  });

  it('never prints exponent notation, whatever the magnitude', () => {
    expect(Amount.fromJsonNumberText('1e-18')?.toString()).toBe('0.000000000000000001');
    expect(Amount.fromJsonNumberText('1.5E+30')?.toString()).toBe(
      '1500000000000000000000000000000',
    );
    expect(Amount.fromJsonNumberText('-2.50e2')?.toString()).toBe('-250');
    expect(Amount.fromJsonNumberText('-0.00')?.toString()).toBe('0.00');
  });

  it('adds exactly: 0.1 + 0.2 is 0.3, and 2^53 + 1 keeps its last digit', () => {
    const sum = sumAmounts(['0.1', '0.2'].map((text) => Amount.fromJsonNumberText(text) as Amount));
    expect(sum.toString()).toBe('0.3');
    const big = sumAmounts(
      ['9007199254740993.01', '0.000000000000000001'].map(
        (text) => Amount.fromJsonNumberText(text) as Amount,
      ),
    );
    expect(big.toString()).toBe('9007199254740993.010000000000000001');
  });

  it.each([
    [
      'a number literal',
      '12.5',
      'Decimal must be a string in plain decimal notation such as "12.50"; received a number; send it as a string to keep every digit',
    ],
    ['an integer literal', '12', 'received a number'],
    ['exponent notation', '"1e5"', 'received a string that is not ("1e5")'],
    ['a word', '"ten"', 'received a string that is not ("ten")'],
    ['an empty string', '""', 'received a string that is not ("")'],
    ['a boolean', 'true', 'received a boolean'],
    ['a leading plus', '"+1"', 'received a string that is not ("+1")'],
    ['a bare point', '".5"', 'received a string that is not (".5")'],
  ])('rejects %s with a clear message', async (_name, literal, message) => {
    const result = await echo(literal);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.message).toContain(message);
  });

  it.each([
    ['41 digits before the point', '9'.repeat(41), '41 digits before the point, 0 after'],
    ['41 after it', `-0.${'1'.repeat(41)}`, '1 digit before the point, 41 after'],
    ['a megabyte of digits', '1'.repeat(1_000_000), '1000000 digits before the point, 0 after'],
  ])(
    'refuses %s, as a literal and as a variable, without echoing it',
    async (_name, text, sizes) => {
      const message = `Decimal must be an amount of at most 40 digits before the point and 40 after; received one outside those bounds (${sizes})`;
      for (const result of [await echo(JSON.stringify(text)), await echoVariable(text)]) {
        expect(result.data).toBeUndefined();
        expect(result.errors?.map((error) => error.message)).toEqual([
          expect.stringContaining(message),
        ]);
      }
    },
  );

  it('accepts 40 digits on each side of the point', async () => {
    const text = `-${'9'.repeat(40)}.${'9'.repeat(40)}`;
    expect((await echoVariable(text)).data).toEqual({ echoDecimal: text });
  });

  it('rejects a JSON number in variables, which would already have lost digits', async () => {
    // A float already: what a client holding 9007199254740993.01 as a number would send.
    const result = await echoVariable(2 ** 53 + 2);
    expect(result.errors?.[0]?.message).toContain('received a number; send it as a string');
  });
});
