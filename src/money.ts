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

/**
 * An exact amount of money: a decimal.js value and the number of decimal places it was given
 * with, so that "12386.00" prints back as "12386.00" and never as "12386" or "1.2386e+4".
 */
export class Amount {
  private constructor(
    readonly value: Decimal,
    readonly scale: number,
  ) {}

  static readonly ZERO = new Amount(new Decimal(0), 0);

  /** Parses an upstream number's text (JSON number grammar, exponents allowed). */
  static fromJsonNumberText(text: string): Amount | undefined {
    const trimmed = text.trim();
    if (!JSON_NUMBER.test(trimmed)) return undefined;
    const value = new Decimal(trimmed);
    const plain = trimmed.match(/^-?\d+(?:\.(\d+))?$/);
    const scale = plain ? (plain[1]?.length ?? 0) : value.decimalPlaces();
    return new Amount(value, scale);
  }

  /** Parses what a client sent; only plain decimal notation is accepted. */
  static fromPlainString(text: string): Amount | undefined {
    if (!PLAIN_DECIMAL.test(text)) return undefined;
    return new Amount(new Decimal(text), text.split('.')[1]?.length ?? 0);
  }

  /**
   * `units / 10^digits` exactly, e.g. a provider's "value × 10000" integers; printed with just the
   * places it needs ("2", "14.3456").
   */
  static fromScaledInteger(units: Amount, digits: number): Amount {
    const value = units.value.div(new Decimal(10).pow(digits));
    return new Amount(value, value.decimalPlaces());
  }

  plus(other: Amount): Amount {
    return new Amount(this.value.plus(other.value), Math.max(this.scale, other.scale));
  }

  /** Plain notation with the amount's own scale; never exponent notation, never "-0". */
  toString(): string {
    const value = this.value.isZero() ? this.value.abs() : this.value;
    return value.toFixed(this.scale);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Sums amounts exactly; the scale of the sum is the largest scale of its terms. */
export function sumAmounts(amounts: Iterable<Amount>): Amount {
  let sum = Amount.ZERO;
  for (const amount of amounts) sum = sum.plus(amount);
  return sum;
}
