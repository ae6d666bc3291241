import type { Dispatcher } from 'undici';
import type { ProviderConfigOf, ProviderKind } from '../config.js';
import type { Logger } from '../logger.js';
import type { Amount } from '../money.js';
import type { StopSignal } from '../upstream/deadline.js';
import type { TokenSlot } from '../upstream/token-cache.js';

/** The component kinds of CONTRACT.md's BalanceComponentKind. */
export type BalanceComponentKind =
  | 'PENDING'
  | 'RESERVED'
  | 'FROZEN'
  | 'HOLD'
  | 'LOCKED'
  | 'GIFT'
  | 'REFERRAL';

export interface NormalizedBalance {
  currency: string;
  network: string | undefined;
  total: Amount;
  available: Amount;
  components: { kind: BalanceComponentKind; amount: Amount }[];
  depositAddresses: { network: string; address: string; memo: string | undefined }[];
  /** When the provider says the balance last changed, where it says. */
  updatedAt: Date | undefined;
  /**
   * The provider's own record as parsed, numbers still lossless; `Balance.raw` turns them into
   * exact decimal strings when (and only when) a client asks for it.
   */
  raw: unknown;
}

export interface NormalizedAccount {
  upstreamId: string;
  name: string | undefined;
  type: string | undefined;
  status: string | undefined;
  suppressed: boolean;
  balances: NormalizedBalance[];
}

/**
 * What one upstream read must cover: `null` for every currency, otherwise upper-case currency
 * codes. An adapter may return more than it was asked for, never less.
 */
export interface BalanceQuery {
  currencies: readonly string[] | null;
  /**
   * When the read must be over (a `performance.now()` time): the provider's `timeoutMs` from the
   * read's start, or the request's own deadline if sooner. Undefined: each call's `timeoutMs`.
   */
  deadlineAt?: number | undefined;
  /** Fires at `deadlineAt`: every call of the read is aborted then. */
  signal?: StopSignal | undefined;
}

/** What a kind can do beyond reading everything, declared so the loaders can plan one call. */
export interface AdapterCapabilities {
  /**
   * "none": every read returns all currencies. "one": a read may be narrowed to one currency.
   * "many": a read may be narrowed to any set of currencies.
   */
  currencyFilter: 'none' | 'one' | 'many';
}

/** The one interface every provider kind implements. */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  readonly capabilities: AdapterCapabilities;
  /** One upstream balance read (plus a login when the session needs one). */
  fetchAccounts(query: BalanceQuery): Promise<NormalizedAccount[]>;
}

/** Everything an adapter receives; it reads nothing else, the environment least of all. */
export interface AdapterOptions<K extends ProviderKind = ProviderKind> {
  tenantId: string;
  /** The provider's configuration with its secrets resolved. */
  config: ProviderConfigOf<K>;
  /** The shared keep-alive dispatcher every upstream call goes through. */
  dispatcher: Dispatcher;
  /** This (tenant, provider)'s token slot. */
  tokens: TokenSlot;
  /** The clock, for token lifetimes and OTPs; tests move it. */
  now: () => number;
  log?: Logger | undefined;
}

export type AdapterFactory<K extends ProviderKind> = (
  options: AdapterOptions<K>,
) => ProviderAdapter;
