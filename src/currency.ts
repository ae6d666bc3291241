/**
 * Currency codes: the one place that says what a code may hold, how codes fold (upper case) and
 * how they match. A client's code may end up in an upstream request path (pik's Get Balance by
 * Currency), so only a safe set of characters is accepted: no dot, slash, space or non-ASCII.
 */

/** The longest currency code a client may send; 20 covers codes such as "USDT-ERC20". */
export const CURRENCY_CODE_MAX_LENGTH = 20;

/** The rule in words, for messages. */
export const CURRENCY_CODE_RULE = `1 to ${CURRENCY_CODE_MAX_LENGTH} ASCII letters, digits, "_" or "-"`;

const CURRENCY_CODE = new RegExp(`^[A-Za-z0-9_-]{1,${CURRENCY_CODE_MAX_LENGTH}}$`);

/** True for a code a client may send: 1 to 20 ASCII letters, digits, `_` and `-`. */
export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && CURRENCY_CODE.test(value);
}

const LOWER_CASE_ASCII = /[a-z]/g;
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * A code as balance-api prints and compares it: ASCII letters upper-cased, nothing else changed
 * (Unicode upper-casing would fold "ß" into "SS" and make it match a code "ss").
 */
export function foldCurrency(code: string): string {
  return NON_ASCII.test(code)
    ? code.replace(LOWER_CASE_ASCII, (letter) => letter.toUpperCase())
    : code.toUpperCase();
}

/** Codes folded, without repeats, sorted: a stable key for a set of currencies. */
export function foldCurrencies(codes: readonly string[]): string[] {
  return [...new Set(codes.map(foldCurrency))].sort();
}

/**
 * A currency filter as a predicate on a code already folded (by `foldCurrency`); null or undefined
 * lets every code through.
 */
export function foldedCurrencyMatcher(
  currencies: readonly string[] | null | undefined,
): (foldedCode: string) => boolean {
  if (currencies === null || currencies === undefined) return () => true;
  const wanted = new Set(currencies.map(foldCurrency));
  return (foldedCode) => wanted.has(foldedCode);
}

/** A currency filter as a predicate on balances; null or undefined lets every balance through. */
export function currencyMatcher(
  currencies: readonly string[] | null | undefined,
): (balance: { currency: string }) => boolean {
  if (currencies === null || currencies === undefined) return () => true;
  const matches = foldedCurrencyMatcher(currencies);
  return (balance) => matches(foldCurrency(balance.currency));
}

/**
 * Why a list of codes is refused, naming the first bad item and what it was (its length alone
 * when it is longer than a code may be), or undefined when every item is a currency code.
 */
export function currencyListProblem(values: readonly unknown[]): string | undefined {
  const index = values.findIndex((value) => !isCurrencyCode(value));
  if (index < 0) return undefined;
  const value = values[index];
  const received =
    typeof value !== 'string'
      ? `received ${value === null ? 'null' : `a ${typeof value}`}`
      : value.length > CURRENCY_CODE_MAX_LENGTH
        ? `received a string of ${value.length} characters`
        : `received ${JSON.stringify(value)}`;
  return `item ${index}: expected a currency code of ${CURRENCY_CODE_RULE}, ${received}`;
}
