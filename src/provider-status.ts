import type {
  ProviderErrorView,
  ProviderReadEvent,
  ProviderState,
  ProviderStatusView,
} from './provider-events.js';

/**
 * One (tenant, provider)'s status and read listeners, in memory: a handful of fields whatever
 * the traffic, so answering `Provider.status` never calls the upstream and never grows.
 */
export interface ProviderStatusTracker {
  view(): ProviderStatusView;
  /** A read settled (or a failure was answered from an earlier read): record it, tell listeners. */
  record(event: ProviderReadEvent): void;
  /**
   * Another instance's read of the provider (`cluster`): recorded and told to the read listeners
   * as this instance's own reads are, but not to the `onOwnRead` listeners.
   */
  recordRemote(event: ProviderReadEvent): void;
  /**
   * A read failed with something other than an upstream error (a defect): the provider's state
   * is not known to be fine, so DOWN, worded as the client sees it (masked). No read event.
   */
  recordUnexpected(at: Date): void;
  /**
   * The circuit breaker opened or closed; closed by a successful probe, the provider is UP at
   * once (its read is recorded just after), so listeners never see a passing DOWN.
   */
  setCircuitOpen(open: boolean, probeSucceeded?: boolean): void;
  onRead(listener: (event: ProviderReadEvent) => void): () => void;
  /** Only this instance's reads (what `cluster` tells the other instances); returns the unsubscribe. */
  onOwnRead(listener: (event: ProviderReadEvent) => void): () => void;
  onStatusChange(listener: (status: ProviderStatusView) => void): () => void;
}

export function createProviderStatusTracker(): ProviderStatusTracker {
  let outcome: 'UNKNOWN' | 'UP' | 'DOWN' = 'UNKNOWN';
  let circuitOpen = false;
  let lastSuccessAt: Date | undefined;
  let lastFailureAt: Date | undefined;
  let lastError: ProviderErrorView | undefined;
  const readListeners = new Set<(event: ProviderReadEvent) => void>();
  const ownReadListeners = new Set<(event: ProviderReadEvent) => void>();
  const statusListeners = new Set<(status: ProviderStatusView) => void>();

  const state = (): ProviderState => (circuitOpen ? 'DOWN' : outcome);

  const view = (): ProviderStatusView => ({
    state: state(),
    circuitOpen,
    lastSuccessAt,
    lastFailureAt,
    lastError,
  });

  /** Runs `change`, then tells the status listeners if the state or the circuit changed. */
  function changing(change: () => void): void {
    const before = { state: state(), circuitOpen };
    change();
    if (before.state === state() && before.circuitOpen === circuitOpen) return;
    const now = view();
    for (const listener of [...statusListeners]) callSafely(() => listener(now));
  }

  function record(event: ProviderReadEvent): void {
    changing(() => {
      if (!event.ok) {
        outcome = 'DOWN';
        lastFailureAt = event.at;
        lastError = {
          code: event.error.code,
          message: event.error.message,
          retryable: event.error.retryable,
          at: event.at,
        };
      } else if (!event.stale) {
        // A stale answer is not news of the provider's health: its failure was recorded.
        outcome = 'UP';
        lastSuccessAt = event.read.fetchedAt;
      }
    });
    for (const listener of [...readListeners]) callSafely(() => listener(event));
  }

  return {
    view,
    record(event) {
      record(event);
      for (const listener of [...ownReadListeners]) callSafely(() => listener(event));
    },
    recordRemote: record,
    recordUnexpected(at) {
      changing(() => {
        outcome = 'DOWN';
        lastFailureAt = at;
        lastError = {
          code: 'INTERNAL_SERVER_ERROR',
          message: 'Unexpected error.',
          retryable: false,
          at,
        };
      });
    },
    setCircuitOpen(open, probeSucceeded = false) {
      changing(() => {
        circuitOpen = open;
        if (!open && probeSucceeded) outcome = 'UP';
      });
    },
    onRead(listener) {
      readListeners.add(listener);
      return () => readListeners.delete(listener);
    },
    onOwnRead(listener) {
      ownReadListeners.add(listener);
      return () => ownReadListeners.delete(listener);
    },
    onStatusChange(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
  };
}

/** A listener's mistake must not fail the read that every caller is waiting on. */
function callSafely(call: () => void): void {
  try {
    call();
  } catch {
    // Listeners own their errors; a read's outcome does not depend on them.
  }
}
