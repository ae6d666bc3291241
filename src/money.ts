import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The most digits an amount may have before its decimal point: amounts are below 10^40. An
 * upstream number or a client's Decimal with more is refused before any decimal is built, so a
 * nine-byte `1e9000000` never becomes nine million digits.
 */
export const AMOUNT_MAX_INTEGER_DIGITS = 40;
/** The most digits an amount may have after its decimal point: its smallest step is 10^-40. */
export const AMOUNT_MAX_FRACTION_DIGITS = 40;
/** The bounds in words, for messages. */
export const AMOUNT_BOUNDS = `at most ${AMOUNT_MAX_INTEGER_DIGITS} digits before the point and ${AMOUNT_MAX_FRACTION_DIGITS} after`;

/**
 * decimal.js configured for money, and no exponent notation when printing. An amount has at most
 * 80 significant digits; a sum of n of them at most 80 + log10(n), so 100 digits of precision keep
 * every sum of fewer than 10^20 amounts exact (arithmetic rounds only beyond the precision).
 */
export const Decimal = DecimalJs.clone({
  precision: AMOUNT_MAX_INTEGER_DIGITS + AMOUNT_MAX_FRACTION_DIGITS + 20,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Decimal = DecimalJs;

/** Why a text is not an amount: it is no number, or a number outside the bounds. */
export type AmountRefusal = 'not a number' | 'out of bounds';

/** A JSON number as text, as upstream bodies may carry it: sign, integer, fraction, exponent. */
const JSON_NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?)(\d+))?$/;
/** What a client may send as a Decimal: plain notation only. */
const PLAIN_DECIMAL = /^-?(\d+)(?:\.(\d+))?$/;
const ZEROS = /^0*$/;
/** More exponent digits than this cannot be brought back within the bounds by any string. */
const MAX_EXPONENT_DIGITS = 15;

/**
 * An exact amount of money: a decimal.js value and the number of decimal places it was given
 * with, so that "12386.00" prints back as "12386.00" and never as "12386" or "1.2386e+4".
 * An amount read in plain notation keeps its text and builds its decimal.js value only when
 * arithmetic needs it: most amounts are only ever printed.
 */
export class Amount {
  private decimal: Decimal | undefined;
  private text: string | undefined;

  private constructor(
    source: { text: string } | { value: Decimal },
    readonly scale: number,
  ) {
    if ('text' in source) this.text = source.text;
    else this.decimal = source.value;
  }

  static readonly ZERO = new Amount({ text: '0' }, 0);

  /** The decimal.js value, for arithmetic and comparison. */
  get value(): Decimal {
    this.decimal ??= new Decimal(this.text as string);
    return this.decimal;
  }

  /** An upstream number's text as an amount, or undefined; see readJsonNumberText. */
  static fromJsonNumberText(text: string): Amount | undefined {
    const amount = Amount.readJsonNumberText(text);
    return amount instanceof Amount ? amount : undefined;
  }

  /**
   * Parses an upstream number's text (JSON number grammar, exponents allowed), or says why it is
   * not an amount. The bounds are checked on the text, before any decimal is built: lengths in
   * plain notation, and the exponent's digits as text, so an exponent thousands of digits long
   * costs nothing. Zero in any form is zero.
   */
  static readJsonNumberText(text: string): Amount | AmountRefusal {
    const trimmed = text.trim();
    const parts = JSON_NUMBER.exec(trimmed);
    if (parts === null) return 'not a number';
    const [, sign = '', integer = '', fraction = '', exponentSign, exponent] = parts;
    if (exponent !== undefined) {
      const plain = plainFromExponentForm(sign, integer, fraction, exponentSign, exponent);
      return typeof plain === 'string' ? plain : new Amount({ text: plain.text }, plain.scale);
    }
    const zero = integer === '0' && ZEROS.test(fraction);
    if (
      integer.length > AMOUNT_MAX_INTEGER_DIGITS ||
      fraction.length > AMOUNT_MAX_FRACTION_DIGITS
    ) {
      return zero ? Amount.ZERO : 'out of bounds';
    }
    // "-0.00" prints as "0.00".
    return new Amount({ text: zero && sign !== '' ? trimmed.slice(1) : trimmed }, fraction.length);
  }

  /** What a client sent as an amount, or undefined; see readPlainString. */
  static fromPlainString(text: string): Amount | undefined {
    const amount = Amount.readPlainString(text);
    return amount instanceof Amount ? amount : undefined;
  }

  /** Parses what a client sent: plain decimal notation only, within the bounds as written. */
  static readPlainString(text: string): Amount | AmountRefusal {
    const parts = PLAIN_DECIMAL.exec(text);
    if (parts === null) return 'not a number';
    const [, integer = '', fraction = ''] = parts;
    if (
      integer.length > AMOUNT_MAX_INTEGER_DIGITS ||
      fraction.length > AMOUNT_MAX_FRACTION_DIGITS
    ) {
      return 'out of bounds';
    }
    return new Amount({ value: new Decimal(text) }, fraction.length);
  }

  /**
   * `units / 10^digits` exactly, e.g. a provider's "value × 10000" integers; printed with just the
   * places it needs ("2", "14.3456").
   */
  static fromScaledInteger(units: Amount, digits: number): Amount {
    // `units` is an Amount, so within the bounds already: an upstream integer was checked when it
    // was read, and dividing by 10^digits adds no digit before the point.
    const text = units.toString();
    const integer = /^(-?)(\d+)$/.exec(text);
    if (integer === null) {
      const value = units.value.div(new Decimal(10).pow(digits));
      return new Amount({ value }, value.decimalPlaces());
    }
    // Moving the decimal point is exact and needs no arithmetic: "143456" -> "14.3456".
    const [, sign = '', digitsText = ''] = integer;
    const padded = digitsText.padStart(digits + 1, '0');
    const whole = padded.slice(0, padded.length - digits);
    const fraction = padded.slice(padded.length - digits).replace(/0+$/, '');
    const zero = /^0*$/.test(whole) && fraction === '';
    const shifted = `${zero ? '' : sign}${whole}${fraction === '' ? '' : `.${fraction}`}`;
    return new Amount({ text: shifted }, fraction.length);
  }

  plus(other: Amount): Amount {
    return new Amount({ value: this.value.plus(other.value) }, Math.max(this.scale, other.scale));
  }

  /** Plain notation with the amount's own scale; never exponent notation, never "-0". */
  toString(): string {
    if (this.text === undefined) {
      const value = this.value.isZero() ? this.value.abs() : this.value;
      this.text = value.toFixed(this.scale);
    }
    return this.text;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Sums amounts exactly; the scale of the sum is the largest scale of its terms. */
export function sumAmounts(amounts: Iterable<Amount>): Amount {
  let sum: Amount | undefined;
  // A single term is its own sum: no arithmetic, and it prints the same.
  for (const amount of amounts) sum = sum === undefined ? amount : sum.plus(amount);
  return sum ?? Amount.ZERO;
}

/**
 * An exponent-form number as plain text and scale, computed on the digits alone. The value is
 * `significant × 10^shift`, with the significant digits stripped of leading and trailing zeros;
 * it fits when it has at most AMOUNT_MAX_INTEGER_DIGITS digits before the point and
 * AMOUNT_MAX_FRACTION_DIGITS after. The scale is the places the value needs ("2.50e2" is "250").
 */
function plainFromExponentForm(
  sign: string,
  integer: string,
  fraction: string,
  exponentSign: string | undefined,
  exponent: string,
): { text: string; scale: number } | AmountRefusal {
  const digits = integer + fraction;
  const first = digits.search(/[1-9]/);
  if (first < 0) return { text: '0', scale: 0 };
  let last = digits.length - 1;
  while (digits.charCodeAt(last) === 48) last -= 1;
  let exponentStart = 0;
  while (exponentStart < exponent.length - 1 && exponent.charCodeAt(exponentStart) === 48) {
    exponentStart += 1;
  }
  if (exponent.length - exponentStart > MAX_EXPONENT_DIGITS) return 'out of bounds';
  const power = Number(exponent.slice(exponentStart)) * (exponentSign === '-' ? -1 : 1);
  const significant = digits.slice(first, last + 1);
  // The power of ten of the last significant digit.
  const shift = power - fraction.length + (digits.length - 1 - last);
  const places = Math.max(0, -shift);
  if (
    significant.length + shift > AMOUNT_MAX_INTEGER_DIGITS ||
    places > AMOUNT_MAX_FRACTION_DIGITS
  ) {
    return 'out of bounds';
  }
  let text: string;
  if (shift >= 0) text = significant + '0'.repeat(shift);
  else if (significant.length > places) {
    const point = significant.length - places;
    text = `${significant.slice(0, point)}.${significant.slice(point)}`;
  } else text = `0.${'0'.repeat(places - significant.length)}${significant}`;
  return { text: `${sign}${text}`, scale: places };
}
