import type { Dispatcher } from 'undici';
import type { Logger } from '../logger.js';
import type { Amount } from '../money.js';
import type { StopSignal } from '../upstream/deadline.js';
import type { UpstreamHttp } from '../upstream/http.js';
import type { ProviderObserver } from '../upstream/observer.js';
import type { TokenSlot } from '../upstream/token-cache.js';
import type { ProviderKind } from './kinds.js';
import type { CommonProviderConfig } from './provider-config.js';

/** The component kinds of CONTRACT.md's BalanceComponentKind. */
export const BALANCE_COMPONENT_KINDS = [
  'PENDING',
  'RESERVED',
  'FROZEN',
  'HOLD',
  'LOCKED',
  'GIFT',
  'REFERRAL',
] as const;

export type BalanceComponentKind = (typeof BALANCE_COMPONENT_KINDS)[number];

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

/**
 * What a kind's adapter factory returns: one upstream read (plus a login when the session needs
 * one), every call sent through `http`. The provider reader hands it `http` already bounded by
 * the read's deadline and stop signal, so an adapter never bounds a call itself.
 */
export interface KindAdapter {
  readonly capabilities: AdapterCapabilities;
  fetchAccounts(query: BalanceQuery, http: UpstreamHttp): Promise<NormalizedAccount[]>;
}

/** The one interface every configured provider is read through: a kind's adapter and its transport. */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  readonly capabilities: AdapterCapabilities;
  /**
   * The provider's own transport (base URL, per-call timeout, retries, body cap), unbounded: the
   * provider reader bounds it by each read's deadline and stop signal (`transport.within`).
   */
  readonly transport: UpstreamHttp;
  /** One upstream read, every call through `http`: the transport as the reader bounded it. */
  fetchAccounts(query: BalanceQuery, http: UpstreamHttp): Promise<NormalizedAccount[]>;
}

/** Everything a kind's adapter factory receives; it reads nothing else, the environment least of all. */
export interface KindAdapterOptions<C extends CommonProviderConfig = CommonProviderConfig> {
  tenantId: string;
  /** The provider's configuration with its secrets resolved. */
  config: C;
  /** This (tenant, provider)'s token slot. */
  tokens: TokenSlot;
  /** The clock, for token lifetimes and OTPs; tests move it. */
  now: () => number;
  log?: Logger | undefined;
}

/** What building a provider's adapter takes: the kind's options and the shared dispatcher. */
export interface AdapterOptions<C extends CommonProviderConfig = CommonProviderConfig>
  extends KindAdapterOptions<C> {
  /** The shared keep-alive dispatcher every upstream call goes through. */
  dispatcher: Dispatcher;
  /** Told of every upstream call of the provider (metrics, traces); default none. */
  observer?: ProviderObserver | undefined;
}
