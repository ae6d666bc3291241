import type { ProviderRead } from './provider-reader.js';
import type { UpstreamError } from './upstream/errors.js';

/**
 * What every read of one (tenant, provider) ends as, whoever started it (a query, a federated
 * entity lookup, a subscription poll). One event per upstream read that settles, not per caller
 * that joined it or was served from the freshness window; a failed read answered from an earlier
 * one (stale-if-error) is `ok: true, stale: true`, after the failure's own `ok: false` event.
 */
export type ProviderReadEvent =
  | { ok: true; currencies: readonly string[] | null; read: ProviderRead; stale: boolean }
  | { ok: false; currencies: readonly string[] | null; error: UpstreamError; at: Date };

/** CONTRACT.md's ProviderState: not read yet, last read succeeded, last read failed or circuit open. */
export type ProviderState = 'UNKNOWN' | 'UP' | 'DOWN';

/** The most recent failure as the client saw it (the error model's words), with when. */
export interface ProviderErrorView {
  code: string;
  message: string;
  retryable: boolean;
  at: Date;
}

/** A provider's status, kept in memory: answering it never calls the upstream. */
export interface ProviderStatusView {
  state: ProviderState;
  circuitOpen: boolean;
  lastSuccessAt: Date | undefined;
  lastFailureAt: Date | undefined;
  lastError: ProviderErrorView | undefined;
}

/** Listeners of one (tenant, provider): reads as they settle, and status changes. */
export interface ProviderEvents {
  /** Called once per upstream read that settles; returns the unsubscribe. */
  onRead(listener: (event: ProviderReadEvent) => void): () => void;
  /** Called when `state` (or `circuitOpen`) changes; returns the unsubscribe. */
  onStatusChange(listener: (status: ProviderStatusView) => void): () => void;
}

/**
 * One (tenant, provider)'s part in a cluster (`cluster` in the configuration), as the live hub
 * uses it: one instance polls it at a time, and every instance hears the others' reads of it.
 */
export interface ProviderClusterLink {
  /**
   * Takes part in the polling lease while this instance has subscribers of the provider: the
   * turn says whether this instance polls now (it holds the lease, or Redis does not answer and
   * every instance polls for itself); `onChange` is told when that changes.
   */
  keepLease(onChange: (polls: boolean) => void): PollingTurn;
  /** Whether this instance polls the provider now: false while it keeps no lease. */
  polls(): boolean;
  /**
   * Hears the other instances' reads of the provider: each is recorded in its status, and so
   * told to its read listeners, until the returned unsubscribe.
   */
  listen(): () => void;
}

/** This instance's part in one provider's polling lease. */
export interface PollingTurn {
  /** Whether this instance polls now. */
  polls(): boolean;
  /** Leaves the lease (another instance with subscribers takes it at once). */
  stop(): void;
}
