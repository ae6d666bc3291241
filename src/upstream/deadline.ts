import type { ReadScope } from './observer.js';

/**
 * The deadline of a provider read and the signal that stops its calls. Deadlines are
 * `performance.now()` times: monotonic, so a wall clock set back or forward never cuts a read
 * short nor lets it run on.
 */

/** What bounds the calls of one provider read. */
export interface ReadBound {
  deadlineAt?: number | undefined;
  /** Aborts at `deadlineAt` (with a TimeoutError), or sooner when the read is given up. */
  signal?: StopSignal | undefined;
  /** The read the calls belong to, where an observer watches it (metrics, traces). */
  scope?: ReadScope | undefined;
}

/** What an upstream call listens to for being given up: an AbortSignal, or a ReadStop. */
export interface StopSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * The stop of one provider read: what its calls need of an AbortSignal, without an EventTarget
 * behind it. A read makes one, every read of every request; Node's AbortController costs several
 * times as much.
 */
export class ReadStop implements StopSignal {
  aborted = false;
  reason: unknown;
  private listeners: (() => void)[] = [];

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listeners.push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const index = this.listeners.indexOf(listener);
    if (index >= 0) this.listeners.splice(index, 1);
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/** The reason a deadline's signal aborts with, as `AbortSignal.timeout` gives. */
export function deadlineReached(): DOMException {
  return new DOMException('The operation timed out.', 'TimeoutError');
}

/** Milliseconds left before `deadlineAt`, never below zero; undefined without a deadline. */
export function leftUntil(deadlineAt: number | undefined): number | undefined {
  return deadlineAt === undefined ? undefined : Math.max(0, deadlineAt - performance.now());
}

/**
 * True when a read's deadline has come, to the millisecond: timers round to whole milliseconds,
 * so a wait capped at the time left may end a fraction early.
 */
export function atDeadline(bound: ReadBound): boolean {
  return bound.deadlineAt !== undefined && (leftUntil(bound.deadlineAt) ?? 0) < 1;
}

/**
 * The sooner of two bounds. A signal is kept only with the deadline it fires at: a signal of a
 * later deadline would fire too late for the sooner one.
 */
export function narrower(a: ReadBound, b: ReadBound): ReadBound {
  const sooner =
    a.deadlineAt === undefined
      ? b
      : b.deadlineAt === undefined
        ? a
        : b.deadlineAt <= a.deadlineAt
          ? b
          : a;
  // The read the calls belong to stays theirs, whichever bound is sooner.
  const scope = b.scope ?? a.scope;
  return sooner.scope === scope
    ? sooner
    : { deadlineAt: sooner.deadlineAt, signal: sooner.signal, scope };
}

export function noop(): void {}

/** An AbortSignal that fires with `stop` (cockatiel's retry waits on one), and its unlinking. */
export function linkedSignal(stop: StopSignal): { signal: AbortSignal; clear(): void } {
  if (stop instanceof AbortSignal) return { signal: stop, clear: noop };
  const controller = new AbortController();
  const forward = () => controller.abort(stop.reason);
  if (stop.aborted) forward();
  else stop.addEventListener('abort', forward);
  return { signal: controller.signal, clear: () => stop.removeEventListener('abort', forward) };
}

/** An abort signal that fires after `ms`, and a way to cancel its timer. */
export function deadlineSignal(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(deadlineReached()), Math.max(1, Math.ceil(ms)));
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
