import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AMOUNT_MAX_FRACTION_DIGITS,
  AMOUNT_MAX_INTEGER_DIGITS,
  Amount,
  sumAmounts,
} from '../src/money.js';
import { ContractViolation } from '../src/upstream/errors.js';
import { parseLosslessJson, readAmount, toRawJson } from '../src/upstream/json.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const OUT_OF_BOUNDS =
  'expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds';

/** readAmount of the one field of a body, or the message it refused it with. */
function read(body: string): string {
  const record = parseLosslessJson(body) as Record<string, unknown>;
  try {
    return readAmount(record, 'balance', 'body.data[0]').toString();
  } catch (error) {
    expect(error).toBeInstanceOf(ContractViolation);
    return (error as Error).message;
  }
}

const nines = (count: number) => '9'.repeat(count);

describe('the bounds of an amount', () => {
  it('are 40 digits before the point and 40 after', () => {
    expect(AMOUNT_MAX_INTEGER_DIGITS).toBe(40);
    expect(AMOUNT_MAX_FRACTION_DIGITS).toBe(40);
  });

  it('refuse 1e9000000 by the field path, without echoing a digit', () => {
    const message = read('{"balance": 1e9000000}');
    expect(message).toBe(`body.data[0].balance: ${OUT_OF_BOUNDS}`);
  });

  it('refuse an exponent thousands of digits long, and an 8 MiB run of digits, as numbers out of bounds', () => {
    expect(read(`{"balance": 1e${nines(5000)}}`)).toBe(`body.data[0].balance: ${OUT_OF_BOUNDS}`);
    expect(read(`{"balance": 1e-${nines(5000)}}`)).toBe(`body.data[0].balance: ${OUT_OF_BOUNDS}`);
    const huge = `1${'0'.repeat(8 * 1024 * 1024)}`;
    expect(read(`{"balance": ${huge}}`)).toBe(`body.data[0].balance: ${OUT_OF_BOUNDS}`);
    expect(Amount.fromJsonNumberText(huge)).toBeUndefined();
    expect(Amount.fromPlainString(huge)).toBeUndefined();
  });

  it('refuse 10^1001, whose sum with 1 used to lose the 1', () => {
    expect(read(`{"balance": 1${'0'.repeat(1001)}}`)).toBe(
      `body.data[0].balance: ${OUT_OF_BOUNDS}`,
    );
  });

  it('say when a string holds a number outside them, and still when it holds no number', () => {
    expect(read(`{"balance": "${nines(41)}"}`)).toBe(
      'body.data[0].balance: expected an amount of at most 40 digits before the point and 40 after, received a string holding a number outside those bounds',
    );
    expect(read('{"balance": "abc"}')).toBe(
      'body.data[0].balance: expected an amount, received a string that is not a number',
    );
  });

  it.each([
    ['40 digits before the point', nines(40), nines(40)],
    ['40 after it', `0.${nines(40)}`, `0.${nines(40)}`],
    ['both at once', `-${nines(40)}.${nines(40)}`, `-${nines(40)}.${nines(40)}`],
    ['1.5e3', '1.5e3', '1500'],
    ['1e39 (40 digits)', '1e39', `1${'0'.repeat(39)}`],
    ['1e-40', '1e-40', `0.${'0'.repeat(39)}1`],
    ['an exponent brought back by a long fraction', `0.${'0'.repeat(60)}15e62`, '15'],
    ['an exponent brought back by trailing zeros', `15${'0'.repeat(60)}E-61`, '1.5'],
    ['zero with a huge exponent', '0e999999999', '0'],
    ['negative zero with an exponent of thousands of digits', `-0.00e-${nines(5000)}`, '0'],
    ['zero with more places than the bound', `0.${'0'.repeat(100)}`, '0'],
  ])('accept %s', (_name, text, printed) => {
    expect(read(`{"balance": ${text}}`)).toBe(printed);
    expect(read(`{"balance": "${text}"}`)).toBe(printed);
  });

  it.each([
    ['41 digits before the point', nines(41)],
    ['41 after it', `0.${nines(41)}`],
    ['1e40 (41 digits)', '1e40'],
    ['1e41', '1e41'],
    ['1e-41', '1e-41'],
    ['trailing zeros past the 40th place', `1.${'0'.repeat(41)}`],
  ])('refuse %s', (_name, text) => {
    expect(read(`{"balance": ${text}}`)).toBe(`body.data[0].balance: ${OUT_OF_BOUNDS}`);
  });

  it('keep Balance.raw safe: a number outside them stays its own text, one inside is expanded', () => {
    const raw = parseLosslessJson(
      `{"balance": 1e9000000, "tiny": 1e-41, "fine": 1.5e3, "long": ${nines(41)}, "zero": 0e99999}`,
    );
    expect(toRawJson(raw)).toEqual({
      balance: '1e9000000',
      tiny: '1e-41',
      fine: '1500',
      long: nines(41),
      zero: '0',
    });
  });
});

describe('sums inside the bounds', () => {
  /** The exact decimal text of `units / 10^40`, for expected values computed with BigInt. */
  function scaled40(units: bigint): string {
    const negative = units < 0n;
    const digits = (negative ? -units : units).toString().padStart(41, '0');
    const text = `${digits.slice(0, -40)}.${digits.slice(-40)}`;
    return negative ? `-${text}` : text;
  }

  it('are exact for many of the largest amounts: (10^40 - 10^-40) summed 100000 times', () => {
    const largest = Amount.fromJsonNumberText(`${nines(40)}.${nines(40)}`) as Amount;
    const count = 100_000;
    const sum = sumAmounts(Array.from({ length: count }, () => largest));
    expect(sum.toString()).toBe(scaled40((10n ** 80n - 1n) * BigInt(count)));
  });

  it('are exact across scales: the largest, the smallest and everything between', () => {
    const texts = [
      nines(40),
      `0.${'0'.repeat(39)}1`,
      `-${nines(40)}.${nines(40)}`,
      '12386.00',
      '1e39',
      '-1e-40',
      `1${'0'.repeat(39)}.${'0'.repeat(39)}1`,
      '0.1',
      '0.2',
    ];
    const amounts = texts.map((text) => Amount.fromJsonNumberText(text) as Amount);
    const units = (text: string): bigint => {
      const value = Amount.fromJsonNumberText(text)?.toString() as string;
      const [whole = '', fraction = ''] = value.replace('-', '').split('.');
      const magnitude = BigInt(whole + fraction.padEnd(40, '0'));
      return value.startsWith('-') ? -magnitude : magnitude;
    };
    const expected = texts.reduce((total, text) => total + units(text), 0n);
    // Repeated, so the sum also leaves the bounds of a single amount.
    const many = Array.from({ length: 5000 }, () => amounts).flat();
    expect(sumAmounts(many).toString()).toBe(scaled40(expected * 5000n));
  });
});

describe('a Decimal argument outside the bounds, through the API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  async function post(query: string, variables?: Record<string, unknown>) {
    app.sandbox.clearCalls();
    const response = await app.yoga.fetch('http://balance-api.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    return {
      status: response.status,
      body: (await response.json()) as { data?: unknown; errors?: { message: string }[] },
    };
  }

  const MESSAGE =
    'Decimal must be an amount of at most 40 digits before the point and 40 after; received one outside those bounds (41 digits before the point, 0 after)';

  it('is refused with HTTP 400 before any upstream call, as a literal', async () => {
    const { status, body } = await post(
      `{ provider(id: "pik-main") { balances(minTotal: "${nines(41)}") { total } } }`,
    );
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.message).toContain(MESSAGE);
    expect(JSON.stringify(body)).not.toContain(nines(41));
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('is refused with HTTP 400 before any upstream call, as a variable', async () => {
    const { status, body } = await post(
      'query ($min: Decimal) { providers { balances(minTotal: $min) { total } } }',
      { min: nines(41) },
    );
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    // graphql-jit coerces variables itself and words the error as its own (the scalar's message
    // is kept only as the cause): it names the variable and the type.
    expect(body.errors?.[0]?.message).toMatch(/^Variable "\$min" got invalid value .*Decimal/);
    expect(app.sandbox.calls()).toHaveLength(0);
  });

  it('is accepted at the bounds', async () => {
    const { status, body } = await post(
      'query ($min: Decimal) { provider(id: "pik-main") { balances(minTotal: $min) { total } } }',
      { min: nines(40) },
    );
    expect(status).toBe(200);
    expect(body).toEqual({ data: { provider: { balances: [] } } });
  });
});
