import type { TraceSpan } from '../tracing/types.js';
import { UpstreamError, type UpstreamErrorCode } from './errors.js';
import type { UpstreamResponse } from './http.js';

/**
 * What the transport and the provider reader tell an observer (metrics, traces) about one
 * provider. The hooks are optional: with neither metrics nor tracing on, a provider has no
 * observer and every hook is one `undefined` check.
 */

/** How one upstream call ended: `ok`, or the contract code its answer (or its failure) maps to. */
export type CallOutcome = 'ok' | UpstreamErrorCode;

/** Where a provider read's answer came from. */
export type ReadSource = 'upstream' | 'coalesced' | 'cache' | 'stale';

/** One attempt of one upstream call, as the transport sends it. */
export interface UpstreamCallInfo {
  /** The call's short name (`login`, `balances`...): the kind's `paths` key. */
  readonly route: string;
  readonly method: string;
  /** Where it goes; its query may hold a credential, so only origin parts are ever recorded. */
  readonly url: URL;
  /** The path template without a query (`/api/v1/balance/{currencyCode}`). */
  readonly template: string;
  /** 1 for the first try, 2 for the first retry... */
  readonly attempt: number;
}

/** One attempt under way. */
export interface CallWatch {
  /** An answer came: its outcome is judged later, where the kind's error table reads it. */
  answered(response: UpstreamResponse): void;
  /** The attempt ended without an answer to judge (a timeout, a reset, a body too large). */
  failed(error: unknown): void;
  /**
   * The transport tries again after this answer (a transient status): its outcome is the
   * status's shared meaning, since no table will read it.
   */
  superseded(): void;
}

/** One upstream read of a provider: the calls it made, judged when the read settles. */
export interface ReadScope {
  /** A call's answer awaiting its judgment; the scope settles it when the read ends. */
  hold(call: HeldCall): void;
  /** An error already counted against a call: the read's failure is not counted again. */
  counted(error: unknown): void;
}

/** An answered call whose outcome is still to be judged. */
export interface HeldCall {
  /** Settles it with `outcome` (`error`: what its table threw); later calls do nothing. */
  settle(outcome: CallOutcome, error?: unknown): void;
  readonly settled: boolean;
}

export interface ProviderObserver {
  /**
   * An attempt starts: the watch of it. May add headers (the trace context) to `headers`.
   * `scope` is the read the call belongs to, when it belongs to one.
   */
  call(info: UpstreamCallInfo, headers: Record<string, string>, scope?: ReadScope): CallWatch;
  /**
   * A read answered from the freshness window. `parent`, here and below: the span of the request
   * that asked; without one (a subscription poll), the read is a trace of its own.
   */
  cached(parent: TraceSpan | undefined): void;
  /** A read joined one under way; `read` settles with it. */
  joined(read: Promise<unknown>, parent: TraceSpan | undefined): void;
  /** An upstream read starts. */
  upstream(parent: TraceSpan | undefined): UpstreamReadWatch;
}

/** One upstream read under way. */
export interface UpstreamReadWatch {
  /** Handed to the read's calls through its bound. */
  readonly scope: ReadScope;
  /**
   * The adapter's work ended (`error` when it failed): the calls still held are settled, a broken
   * body's UPSTREAM_BAD_RESPONSE going to the last answer no table had refused.
   */
  callsDone(error?: unknown): void;
  /** The read settled: from upstream, or from the stale-if-error window, or failed. */
  ended(source: 'upstream' | 'stale', error?: unknown): void;
}

/** The transport holds `response` for judgment (only where an observer watches it). */
export function holdForJudgment(response: UpstreamResponse, call: HeldCall): void {
  // On the answer itself rather than in a WeakMap: one entry per upstream answer was the
  // largest cost of the metrics in a profile.
  response.judged = call;
}

/**
 * A kind's error table refused `response` with `error`: the call is counted under its code. An
 * answer no observer holds costs one property read.
 */
export function answerRefused(response: UpstreamResponse, error: unknown): void {
  const held = response.judged as HeldCall | undefined;
  if (held === undefined || !(error instanceof UpstreamError)) return;
  response.judged = undefined;
  held.settle(error.code, error);
}
