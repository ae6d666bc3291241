import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderKind } from '../providers/kinds.js';
import type { SandboxFaultType } from './faults.js';
import { isLoginCall } from './kinds.js';

/** One call a simulator answered, as the tests read it back. */
export interface RecordedCall {
  kind: ProviderKind;
  method: string;
  /** Relative to the kind's mount point, without the query. */
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  /** The HTTP status sent; 0 when a fault sent none (hang, reset). */
  status: number;
  at: number;
  /** The fault that answered instead of the simulator, if one did. */
  fault?: SandboxFaultType;
}

/** Calls per kind, counted even when calls are not recorded. */
export type SandboxStats = Partial<
  Record<ProviderKind, { logins: number; reads: number; maxConcurrent: number }>
>;

/** The sandbox server's calls: each one recorded (unless off) and counted per kind. */
export interface CallLog {
  /** A call of `kind` is being answered; the function returned says it is over. */
  begin(kind: ProviderKind): () => void;
  /**
   * Counts an answered call of `kind` to `path` as a login or a read, and keeps `call()` when
   * calls are recorded (built only then).
   */
  record(kind: ProviderKind, path: string, call: () => RecordedCall): void;
  /** Every call kept, optionally of one kind. */
  calls(kind?: ProviderKind): RecordedCall[];
  /** Forgets the calls `selected` picks; how many there were. */
  removeCalls(selected: (call: RecordedCall) => boolean): number;
  /** A copy of the counts. */
  stats(): SandboxStats;
  clearStats(): void;
  /** Forgets every call and count. */
  clear(): void;
}

export interface CallLogOptions {
  /** Keep every call for `calls()`; default true. Off for long benchmarks: the counts go on. */
  recordCalls?: boolean;
}

export function createCallLog(options: CallLogOptions = {}): CallLog {
  const recordCalls = options.recordCalls ?? true;
  let recorded: RecordedCall[] = [];
  let stats: SandboxStats = {};
  const active = new Map<ProviderKind, number>();
  const countsOf = (kind: ProviderKind) => {
    const counts = stats[kind] ?? { logins: 0, reads: 0, maxConcurrent: 0 };
    stats[kind] = counts;
    return counts;
  };
  return {
    begin(kind) {
      // How many calls of this kind are being answered at once, the most seen so far.
      const now = (active.get(kind) ?? 0) + 1;
      active.set(kind, now);
      const counts = countsOf(kind);
      counts.maxConcurrent = Math.max(counts.maxConcurrent, now);
      return () => active.set(kind, (active.get(kind) ?? 1) - 1);
    },
    record(kind, path, call) {
      const counts = countsOf(kind);
      if (isLoginCall(kind, path)) counts.logins += 1;
      else counts.reads += 1;
      if (recordCalls) recorded.push(call());
    },
    calls: (kind) =>
      kind === undefined ? [...recorded] : recorded.filter((call) => call.kind === kind),
    removeCalls(selected) {
      const before = recorded.length;
      recorded = recorded.filter((call) => !selected(call));
      return before - recorded.length;
    },
    stats: () => structuredClone(stats),
    clearStats() {
      stats = {};
    },
    clear() {
      recorded = [];
      stats = {};
    },
  };
}
