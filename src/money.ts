import { Decimal as DecimalJs } from 'decimal.js';

/**
 * decimal.js configured for money: enough significant digits that sums of upstream amounts are
 * exact, and no exponent notation when printing. Every amount in balance-api is one of these.
 */
export const Decimal = DecimalJs.clone({
  precision: 1000,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});
export type Decimal = DecimalJs;

/** A JSON number as text, as upstream bodies may carry it (exponents allowed). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
/** What a client may send as a Decimal: plain notation only. */
const PLAIN_DECIMAL = /^-?\d+(\.\d+)?$/;

/** A plain-notation JSON number: printed as it came, but "-0.00" as "0.00". */
const PLAIN_NUMBER = /^-?\d+(?:\.(\d+))?$/;
const NEGATIVE_ZERO = /^-0(?:\.0+)?$/;

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

  /** Parses an upstream number's text (JSON number grammar, exponents allowed). */
  static fromJsonNumberText(text: string): Amount | undefined {
    const trimmed = text.trim();
    const plain = PLAIN_NUMBER.exec(trimmed);
    if (plain !== null) {
      // JSON allows no leading zeros ("01"); neither do amounts.
      if (!JSON_NUMBER.test(trimmed)) return undefined;
      const canonical = NEGATIVE_ZERO.test(trimmed) ? trimmed.slice(1) : trimmed;
      return new Amount({ text: canonical }, plain[1]?.length ?? 0);
    }
    if (!JSON_NUMBER.test(trimmed)) return undefined;
    const value = new Decimal(trimmed);
    return new Amount({ value }, value.decimalPlaces());
  }

  /** Parses what a client sent; only plain decimal notation is accepted. */
  static fromPlainString(text: string): Amount | undefined {
    if (!PLAIN_DECIMAL.test(text)) return undefined;
    return new Amount({ value: new Decimal(text) }, text.split('.')[1]?.length ?? 0);
  }

  /**
   * `units / 10^digits` exactly, e.g. a provider's "value × 10000" integers; printed with just the
   * places it needs ("2", "14.3456").
   */
  static fromScaledInteger(units: Amount, digits: number): Amount {
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
