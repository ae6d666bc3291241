import { isLosslessNumber } from 'lossless-json';
import { foldCurrency } from '../../currency.js';
import { AMOUNT_BOUNDS, Amount } from '../../money.js';
import { ContractViolation } from '../../upstream/errors.js';
import { describeJsonType, isRecord, memberPath } from '../../upstream/json.js';
import type { BalanceComponentKind, NormalizedAccount, NormalizedBalance } from '../adapter.js';
import type { RestAmountSource, RestMapping, RestStringSource } from './config.js';
import { type JsonPointer, parsePointer, pointerWhere, readPointer } from './pointer.js';

/**
 * The `rest` kind's mapping step: a raw answer and the configured mapping in, normalized accounts
 * out, pure. Every amount is read from its text into an exact decimal (never a float); an answer
 * that does not fit the mapping is a ContractViolation naming the field's path in the body, never
 * the body's text.
 */

/** A mapping made ready to run: its pointers parsed once. */
export interface CompiledMapping {
  /** The accounts of one answer (one page), and how many account records it held. */
  read(body: unknown, redact?: Redactor): { accounts: NormalizedAccount[]; records: number };
}

/** Replaces, in a record bound for `Balance.raw`, any string that is a secret. */
export type Redactor = (raw: unknown) => unknown;

type Where = string;
/** A balance record, where it is, and its key when balances are keyed by currency. */
type BalanceRecord = [record: unknown, where: Where, key: string | undefined];
type StringReader = (record: unknown, where: Where, key?: string) => string | undefined;
/** An amount of a balance record: undefined where the record has none. */
type AmountReader = (record: unknown, where: Where, fields: FieldCache) => Amount | undefined;

interface FieldCache {
  get(name: string): Amount | undefined;
}

/** The mapping's pointers parsed (the configuration was checked: each one is valid). */
function pointer(text: string): JsonPointer {
  const parsed = parsePointer(text);
  if (parsed === undefined) throw new Error(`not a JSON Pointer: ${JSON.stringify(text)}`);
  return parsed;
}

export function compileRestMapping(mapping: RestMapping): CompiledMapping {
  const many = mapping.accounts === undefined ? undefined : pointer(mapping.accounts);
  const one = pointer(mapping.account ?? '');
  const accountId = stringReader(mapping.accountId, true);
  const accountName = optional(mapping.accountName);
  const accountType = optional(mapping.accountType);
  const accountStatus = optional(mapping.accountStatus);
  const suppressed = mapping.suppressed === undefined ? undefined : pointer(mapping.suppressed);
  const { balances } = mapping;
  const keyedAt =
    typeof balances === 'object' && !Array.isArray(balances) ? pointer(balances.at) : undefined;
  const levels =
    balances === undefined || keyedAt !== undefined
      ? []
      : (Array.isArray(balances) ? balances : [balances as string]).map(pointer);
  const currency = stringReader(mapping.currency, true);
  const network = optional(mapping.network);
  const components = Object.entries(mapping.components).flatMap(([kind, source]) =>
    source === undefined ? [] : [{ kind: kind as BalanceComponentKind, source }],
  );
  const amounts = new Map<string, { read: AmountReader; optional: boolean }>();
  amounts.set('total', { read: amountReader(mapping.total), optional: false });
  amounts.set('available', { read: amountReader(mapping.available), optional: false });
  for (const { kind, source } of components) {
    amounts.set(kind, {
      read: amountReader(source),
      optional: typeof source === 'object' && source.optional === true,
    });
  }
  const updatedAt = dateReader(mapping.updatedAt);
  const addresses = addressReader(mapping.depositAddresses);

  function readBalance(
    record: unknown,
    where: Where,
    redact: Redactor,
    key: string | undefined,
  ): NormalizedBalance {
    // A balance keyed by currency may be a bare amount ({"USD": "12.50"}): "" reads it.
    const entry = key === undefined ? expectObject(record, where) : record;
    // Each amount is read once per record, whether a field or a sum refers to it.
    const cache = new Map<string, Amount | undefined>();
    const fields: FieldCache = {
      get(name) {
        if (cache.has(name)) return cache.get(name);
        const field = amounts.get(name);
        const value = field?.read(entry, where, fields);
        if (value === undefined && field !== undefined && !field.optional) {
          throw new ContractViolation(
            `${where}: expected an amount for ${name} (mapping.${mappingKey(name)}), received nothing at any of its sources`,
          );
        }
        cache.set(name, value);
        return value;
      },
    };
    const balanceNetwork = network(entry, where, key);
    // Read in the order of the mapping's fields, so the first field that breaks is the one named.
    const total = fields.get('total') as Amount;
    const available = fields.get('available') as Amount;
    const componentAmounts: NormalizedBalance['components'] = [];
    for (const { kind } of components) {
      const amount = fields.get(kind);
      if (amount !== undefined) componentAmounts.push({ kind, amount });
    }
    return {
      currency: foldCurrency(currency(entry, where, key) as string),
      network: balanceNetwork,
      total,
      available,
      components: componentAmounts,
      depositAddresses: addresses(entry, where, balanceNetwork),
      updatedAt: updatedAt(entry),
      raw: redact(entry),
    };
  }

  /** The balance records of an account record, through every level of nesting. */
  function balanceRecords(account: Record<string, unknown>, where: Where): BalanceRecord[] {
    if (keyedAt !== undefined) {
      const at = pointerWhere(where, keyedAt);
      const byCurrency = expectObject(readPointer(account, keyedAt), at);
      // A member that is null holds no balance.
      return Object.entries(byCurrency).flatMap(([key, value], index): BalanceRecord[] =>
        value === null ? [] : [[value, memberPath(at, key, index), key]],
      );
    }
    let records: BalanceRecord[] = [[account, where, undefined]];
    for (const level of levels) {
      records = records.flatMap(([record, recordWhere]): BalanceRecord[] => {
        const at = pointerWhere(recordWhere, level);
        const list = readPointer(record, level);
        // One object at a level is one record: {"balance": {...}} as well as [{...}, ...].
        if (isRecord(list) && !isLosslessNumber(list)) return [[list, at, undefined]];
        if (!Array.isArray(list)) {
          throw new ContractViolation(
            `${at}: expected an array or an object, received ${describeJsonType(list)}`,
          );
        }
        return list.map((item, index): BalanceRecord => [item, `${at}[${index}]`, undefined]);
      });
    }
    return records;
  }

  function readAccount(record: unknown, where: Where, redact: Redactor): NormalizedAccount {
    const account = expectObject(record, where);
    return {
      upstreamId: accountId(account, where) as string,
      name: accountName(account, where),
      type: accountType(account, where),
      status: accountStatus(account, where),
      suppressed: readSuppressed(account, where),
      balances: balanceRecords(account, where).map(([balance, balanceWhere, key]) =>
        readBalance(balance, balanceWhere, redact, key),
      ),
    };
  }

  function readSuppressed(account: Record<string, unknown>, where: Where): boolean {
    if (suppressed === undefined) return false;
    const value = readPointer(account, suppressed);
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    throw new ContractViolation(
      `${pointerWhere(where, suppressed)}: expected a boolean, received ${describeJsonType(value)}`,
    );
  }

  return {
    read(body, redact = (raw) => raw) {
      if (many === undefined) {
        return {
          accounts: [readAccount(readPointer(body, one), pointerWhere('body', one), redact)],
          records: 1,
        };
      }
      const where = pointerWhere('body', many);
      const list = readPointer(body, many);
      if (!Array.isArray(list)) {
        throw new ContractViolation(
          `${where}: expected an array, received ${describeJsonType(list)}`,
        );
      }
      return {
        accounts: list.map((record, index) => readAccount(record, `${where}[${index}]`, redact)),
        records: list.length,
      };
    },
  };
}

/** `total`, `available` or `components.HOLD`: where a field is in the mapping. */
function mappingKey(name: string): string {
  return name === 'total' || name === 'available' ? name : `components.${name}`;
}

function expectObject(value: unknown, where: Where): Record<string, unknown> {
  if (!isRecord(value) || isLosslessNumber(value)) {
    throw new ContractViolation(
      `${where}: expected an object, received ${describeJsonType(value)}`,
    );
  }
  return value;
}

function optional(source: RestStringSource | undefined): StringReader {
  return source === undefined ? () => undefined : stringReader(source, false);
}

/**
 * A string field: a string, or a number's exact text (ids are sometimes numbers). A required one
 * that is missing or null breaks the contract; an optional one that is missing, null or "" is
 * left out.
 */
function stringReader(source: RestStringSource, required: boolean): StringReader {
  if (typeof source === 'object') {
    if ('const' in source) return () => source.const;
    return (_record, where, key) => {
      if (key === undefined && required) {
        throw new ContractViolation(`${where}: expected the key of a balance, received none`);
      }
      return key;
    };
  }
  const at = pointer(source);
  return (record, where) => {
    const value = readPointer(record, at);
    if (typeof value === 'string' && (required || value !== '')) return value;
    if (isLosslessNumber(value)) return value.value;
    if (!required && (value === undefined || value === null || value === '')) return undefined;
    throw new ContractViolation(
      `${pointerWhere(where, at)}: expected a string, received ${describeJsonType(value)}`,
    );
  };
}

/** The amount a source gives; `fields` resolves references to the record's other fields. */
function amountReader(source: RestAmountSource): AmountReader {
  if (typeof source === 'string') {
    const at = parsePointer(source);
    // Not a pointer: a reference to another field (the configuration checked it exists).
    if (at === undefined) return (_record, _where, cache) => cache.get(source);
    return plainAmount(at);
  }
  if ('at' in source) {
    const at = pointer(source.at);
    const { minorUnits } = source;
    if (minorUnits === undefined) return plainAmount(at);
    const exponent = typeof minorUnits === 'number' ? minorUnits : pointer(minorUnits.exponentAt);
    return (record, where) => {
      const units = readAmountAt(record, at, where);
      if (units === undefined) return undefined;
      if (!units.value.isInteger()) {
        throw new ContractViolation(
          `${pointerWhere(where, at)}: expected an integer in minor units, received a fraction`,
        );
      }
      const digits =
        typeof exponent === 'number' ? exponent : readExponent(record, exponent, where);
      return Amount.fromScaledInteger(units, digits);
    };
  }
  if ('firstOf' in source) {
    const readers = source.firstOf.map((term) => amountReader(term));
    return (record, where, cache) => {
      for (const read of readers) {
        const amount = read(record, where, cache);
        if (amount !== undefined) return amount;
      }
      return undefined;
    };
  }
  const minus = 'minus' in source;
  const terms = ('sum' in source ? source.sum : source.minus).map((term) => ({
    read: amountReader(term),
    // A reference to a component the record lacks adds nothing; any other missing term makes
    // the whole missing.
    skipsWhenMissing: typeof term === 'string' && !term.startsWith('/') && term !== '',
  }));
  return (record, where, cache) => {
    const amounts: Amount[] = [];
    for (const [index, term] of terms.entries()) {
      const amount = term.read(record, where, cache);
      if (amount !== undefined) amounts.push(amount);
      else if (index === 0 && minus) return undefined;
      else if (!term.skipsWhenMissing) return undefined;
    }
    if (!minus) return amounts.reduce((sum, amount) => sum.plus(amount));
    const [base, ...rest] = amounts as [Amount, ...Amount[]];
    return difference(base, rest, where);
  };
}

/** base minus the parts, exactly; out of the bounds of an amount is a broken contract. */
function difference(base: Amount, parts: Amount[], where: Where): Amount {
  let value = base.value;
  let scale = base.scale;
  for (const part of parts) {
    value = value.minus(part.value);
    scale = Math.max(scale, part.scale);
  }
  const text = (value.isZero() ? value.abs() : value).toFixed(scale);
  const amount = Amount.fromPlainString(text);
  if (amount === undefined) {
    throw new ContractViolation(
      `${where}: expected an amount of ${AMOUNT_BOUNDS}, received a difference outside those bounds`,
    );
  }
  return amount;
}

function plainAmount(at: JsonPointer): AmountReader {
  return (record, where) => readAmountAt(record, at, where);
}

/**
 * An amount as a JSON number or a decimal string, within the bounds of money.ts; undefined where
 * the field is missing or null. Checked on the text, before any decimal is built.
 */
function readAmountAt(record: unknown, at: JsonPointer, where: Where): Amount | undefined {
  const value = readPointer(record, at);
  if (value === undefined || value === null) return undefined;
  const text = isLosslessNumber(value)
    ? value.value
    : typeof value === 'string'
      ? value
      : undefined;
  const amount = text === undefined ? 'not a number' : Amount.readJsonNumberText(text);
  if (amount instanceof Amount) return amount;
  const field = pointerWhere(where, at);
  if (amount === 'out of bounds') {
    const received = typeof value === 'string' ? 'a string holding a number' : 'a number';
    throw new ContractViolation(
      `${field}: expected an amount of ${AMOUNT_BOUNDS}, received ${received} outside those bounds`,
    );
  }
  const received =
    typeof value === 'string' ? 'a string that is not a number' : describeJsonType(value);
  throw new ContractViolation(`${field}: expected an amount, received ${received}`);
}

/** A per-record exponent: a whole number from 0 to 40, as a number or a string of digits. */
function readExponent(record: unknown, at: JsonPointer, where: Where): number {
  const value = readPointer(record, at);
  const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
  if (/^\d{1,2}$/.test(text) && Number(text) <= 40) return Number(text);
  throw new ContractViolation(
    `${pointerWhere(where, at)}: expected an exponent from 0 to 40, received ${
      value === undefined || value === null || text === ''
        ? describeJsonType(value)
        : 'a value outside that range'
    }`,
  );
}

/** When the balance last changed; unreadable or missing is unknown, as for the built-in kinds. */
function dateReader(source: RestMapping['updatedAt']): (record: unknown) => Date | undefined {
  if (source === undefined) return () => undefined;
  const { at, format } = typeof source === 'string' ? { at: source, format: 'iso' } : source;
  const where = pointer(at);
  return (record) => {
    const value = readPointer(record, where);
    let time: number;
    if (format === 'iso') {
      if (typeof value !== 'string' || value === '') return undefined;
      time = new Date(value).getTime();
    } else {
      const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
      if (!/^\d{1,16}$/.test(text)) return undefined;
      time = Number(text) * (format === 'unixSeconds' ? 1000 : 1);
    }
    const date = new Date(time);
    return Number.isNaN(date.getTime()) ? undefined : date;
  };
}

type AddressReader = (
  record: unknown,
  where: Where,
  balanceNetwork: string | undefined,
) => NormalizedBalance['depositAddresses'];

/**
 * Deposit addresses: an object keyed by network (`keys: "network"`), an array of address
 * records, or one address record; missing or null is none, and so is a null entry.
 */
function addressReader(source: RestMapping['depositAddresses']): AddressReader {
  if (source === undefined) return () => [];
  const at = pointer(source.at);
  const address = stringReader(source.address, true);
  const memo = optional(source.memo);
  const network = source.network === undefined ? undefined : stringReader(source.network, true);
  const one = (
    item: unknown,
    where: Where,
    fallbackNetwork: string | undefined,
  ): NormalizedBalance['depositAddresses'][number] => {
    const record = expectObject(item, where);
    const itemNetwork = network?.(record, where) ?? fallbackNetwork;
    if (itemNetwork === undefined) {
      throw new ContractViolation(`${where}: expected a network for the address, received none`);
    }
    return {
      network: itemNetwork,
      address: address(record, where) as string,
      memo: memo(record, where),
    };
  };
  return (record, where, balanceNetwork) => {
    const value = readPointer(record, at);
    const valueWhere = pointerWhere(where, at);
    if (value === undefined || value === null) return [];
    if (source.keys === 'network') {
      const byNetwork = expectObject(value, valueWhere);
      return Object.entries(byNetwork).flatMap(([key, item], index) =>
        item === null ? [] : [one(item, memberPath(valueWhere, key, index), key)],
      );
    }
    if (Array.isArray(value)) {
      return value.flatMap((item, index) =>
        item === null ? [] : [one(item, `${valueWhere}[${index}]`, balanceNetwork)],
      );
    }
    return [one(value, valueWhere, balanceNetwork)];
  };
}
