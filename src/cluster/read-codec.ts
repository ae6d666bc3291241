import { isLosslessNumber, stringify as stringifyLossless } from 'lossless-json';
import { Amount } from '../money.js';
import type { ProviderReadEvent } from '../provider-events.js';
import type { ProviderRead } from '../provider-reader.js';
import {
  BALANCE_COMPONENT_KINDS,
  type BalanceComponentKind,
  type NormalizedAccount,
  type NormalizedBalance,
} from '../providers/adapter.js';
import { UpstreamError, type UpstreamErrorCode } from '../upstream/errors.js';
import { isRecord, parseLosslessJson } from '../upstream/json.js';

/**
 * A provider read, and a read event, as text that another instance turns back into the same
 * thing: amounts as their exact decimal text with their scale ("12386.00" stays "12386.00"),
 * never a float; times as milliseconds in a string; `raw` with its numbers' exact digits
 * (lossless). The text is sealed before it goes to Redis. An instance of another version that
 * cannot read it treats it as absent.
 */

/** A string: every number the parser meets becomes a LosslessNumber. */
const FORMAT = '1';

interface EncodedBalance {
  currency: string;
  network: string | null;
  total: string;
  available: string;
  components: { kind: string; amount: string }[];
  depositAddresses: { network: string; address: string; memo: string | null }[];
  updatedAt: string | null;
  raw: unknown;
}

interface EncodedAccount {
  upstreamId: string;
  name: string | null;
  type: string | null;
  status: string | null;
  suppressed: boolean;
  balances: EncodedBalance[];
}

/** A read as text; `stale` and `fetchedAt` as they are. */
export function encodeProviderRead(read: ProviderRead): string {
  return stringify({ v: FORMAT, ...readFields(read) });
}

/** The read `encodeProviderRead` gave, or undefined for text it did not give. */
export function decodeProviderRead(text: string): ProviderRead | undefined {
  const value = parse(text);
  if (!isRecord(value) || value.v !== FORMAT) return undefined;
  return readFrom(value);
}

/** A read event as text. An error keeps its code, message, status and Retry-After only. */
export function encodeReadEvent(event: ProviderReadEvent): string {
  if (event.ok) {
    return stringify({
      v: FORMAT,
      ok: true,
      currencies: event.currencies === null ? null : [...event.currencies],
      stale: event.stale,
      ...readFields(event.read),
    });
  }
  return stringify({
    v: FORMAT,
    ok: false,
    currencies: event.currencies === null ? null : [...event.currencies],
    at: String(event.at.getTime()),
    error: {
      code: event.error.code,
      message: event.error.message,
      status: event.error.status ?? null,
      retryAfterSeconds: event.error.retryAfterSeconds ?? null,
    },
  });
}

/** The event `encodeReadEvent` gave (its error for `providerId`), or undefined. */
export function decodeReadEvent(text: string, providerId: string): ProviderReadEvent | undefined {
  const value = parse(text);
  if (!isRecord(value) || value.v !== FORMAT) return undefined;
  const currencies = stringListOrNull(value.currencies);
  if (currencies === undefined) return undefined;
  if (value.ok === true) {
    const read = readFrom(value);
    if (read === undefined || typeof value.stale !== 'boolean') return undefined;
    return { ok: true, currencies, read, stale: value.stale };
  }
  if (value.ok !== false) return undefined;
  const at = time(value.at);
  const error = value.error;
  if (at === undefined || !isRecord(error)) return undefined;
  const { code, message } = error;
  const status = numberOrNull(error.status);
  const retryAfterSeconds = numberOrNull(error.retryAfterSeconds);
  if (
    typeof code !== 'string' ||
    !ERROR_CODES.has(code) ||
    typeof message !== 'string' ||
    status === undefined ||
    retryAfterSeconds === undefined
  ) {
    return undefined;
  }
  return {
    ok: false,
    currencies,
    at,
    error: new UpstreamError(code as UpstreamErrorCode, message, {
      providerId,
      ...(status === null ? {} : { status }),
      ...(retryAfterSeconds === null ? {} : { retryAfterSeconds }),
    }),
  };
}

const ERROR_CODES: ReadonlySet<string> = new Set<UpstreamErrorCode>([
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_RATE_LIMITED',
  'UPSTREAM_AUTH_FAILED',
  'UPSTREAM_NOT_FOUND',
  'UPSTREAM_BAD_RESPONSE',
]);

const COMPONENT_KINDS: ReadonlySet<string> = new Set(BALANCE_COMPONENT_KINDS);

function readFields(read: ProviderRead): Record<string, unknown> {
  return {
    fetchedAt: String(read.fetchedAt.getTime()),
    ...(read.stale === undefined ? {} : { readStale: read.stale }),
    accounts: read.accounts.map(
      (account): EncodedAccount => ({
        upstreamId: account.upstreamId,
        name: account.name ?? null,
        type: account.type ?? null,
        status: account.status ?? null,
        suppressed: account.suppressed,
        balances: account.balances.map(
          (balance): EncodedBalance => ({
            currency: balance.currency,
            network: balance.network ?? null,
            total: balance.total.toString(),
            available: balance.available.toString(),
            components: balance.components.map((component) => ({
              kind: component.kind,
              amount: component.amount.toString(),
            })),
            depositAddresses: balance.depositAddresses.map((address) => ({
              network: address.network,
              address: address.address,
              memo: address.memo ?? null,
            })),
            updatedAt: balance.updatedAt === undefined ? null : String(balance.updatedAt.getTime()),
            raw: balance.raw,
          }),
        ),
      }),
    ),
  };
}

/** Throws on anything that is not what `readFields` wrote; the caller gets undefined. */
function readFrom(value: Record<string, unknown>): ProviderRead | undefined {
  try {
    const fetchedAt = time(value.fetchedAt);
    if (fetchedAt === undefined || !Array.isArray(value.accounts)) return undefined;
    const read: ProviderRead = { accounts: value.accounts.map(accountFrom), fetchedAt };
    if (value.readStale !== undefined) {
      if (typeof value.readStale !== 'boolean') return undefined;
      read.stale = value.readStale;
    }
    return read;
  } catch {
    return undefined;
  }
}

function accountFrom(value: unknown): NormalizedAccount {
  if (!isRecord(value) || typeof value.suppressed !== 'boolean' || !Array.isArray(value.balances)) {
    throw new Error('not an account');
  }
  return {
    upstreamId: text(value.upstreamId),
    name: optionalText(value.name),
    type: optionalText(value.type),
    status: optionalText(value.status),
    suppressed: value.suppressed,
    balances: value.balances.map(balanceFrom),
  };
}

function balanceFrom(value: unknown): NormalizedBalance {
  if (
    !isRecord(value) ||
    !Array.isArray(value.components) ||
    !Array.isArray(value.depositAddresses)
  ) {
    throw new Error('not a balance');
  }
  let updatedAt: Date | undefined;
  if (value.updatedAt !== null) {
    updatedAt = time(value.updatedAt);
    if (updatedAt === undefined) throw new Error('not a time');
  }
  return {
    currency: text(value.currency),
    network: optionalText(value.network),
    total: amount(value.total),
    available: amount(value.available),
    components: value.components.map((component) => {
      if (!isRecord(component) || typeof component.kind !== 'string') throw new Error('kind');
      if (!COMPONENT_KINDS.has(component.kind)) throw new Error('kind');
      return { kind: component.kind as BalanceComponentKind, amount: amount(component.amount) };
    }),
    depositAddresses: value.depositAddresses.map((address) => {
      if (!isRecord(address)) throw new Error('address');
      return {
        network: text(address.network),
        address: text(address.address),
        memo: optionalText(address.memo),
      };
    }),
    updatedAt,
    raw: value.raw,
  };
}

function amount(value: unknown): Amount {
  const parsed = typeof value === 'string' ? Amount.readJsonNumberText(value) : undefined;
  if (!(parsed instanceof Amount)) throw new Error('not an amount');
  return parsed;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw new Error('not a string');
  return value;
}

function optionalText(value: unknown): string | undefined {
  return value === null ? undefined : text(value);
}

/** Milliseconds since the epoch as a string of digits (a time before 1970 has a "-"). */
function time(value: unknown): Date | undefined {
  if (typeof value !== 'string' || !/^-?\d{1,16}$/.test(value)) return undefined;
  const date = new Date(Number(value));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function stringListOrNull(value: unknown): string[] | null | undefined {
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return undefined;
  return value as string[];
}

/** A small integer sent as JSON (a status, seconds), or null; undefined for anything else. */
function numberOrNull(value: unknown): number | null | undefined {
  if (value === null) return null;
  if (!isLosslessNumber(value) || !/^\d{1,15}$/.test(value.value)) return undefined;
  return Number(value.value);
}

function stringify(value: unknown): string {
  const text = stringifyLossless(value);
  if (text === undefined) throw new Error('nothing to encode');
  return text;
}

function parse(text: string): unknown {
  try {
    return parseLosslessJson(text);
  } catch {
    return undefined;
  }
}
