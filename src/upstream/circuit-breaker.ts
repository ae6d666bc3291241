import { UpstreamError, type UpstreamErrorCode } from './errors.js';

/** Failures that say the provider is unwell, as opposed to a problem with what we asked. */
const BREAKING_CODES: ReadonlySet<UpstreamErrorCode> = new Set([
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_BAD_RESPONSE',
]);

export interface CircuitBreakerOptions {
  providerId: string;
  /** Failed reads in a row that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit fails fast before it lets one probe through. */
  cooldownMs: number;
  /** The app's clock, which times the cool-down (tests move it); default Date.now. */
  now?: () => number;
  /**
   * Told when the circuit opens (true) and when it closes again (false); `probeSucceeded` when
   * it closes because the probe read succeeded (rather than because the provider answered with
   * an error that says nothing of its health).
   */
  onOpenChange?: (open: boolean, probeSucceeded: boolean) => void;
}

/** One (tenant, provider)'s breaker: fail fast while the provider is down, then probe. */
export interface ProviderCircuitBreaker {
  run<T>(read: () => Promise<T>): Promise<T>;
  /** True from the opening until a probe closes it (while the probe runs too). */
  isOpen(): boolean;
}

type CircuitState =
  | { value: 'closed' }
  | { value: 'open'; openedAt: number }
  | { value: 'half-open'; probe: Promise<unknown> };

function isBreaking(error: unknown): error is UpstreamError {
  return error instanceof UpstreamError && BREAKING_CODES.has(error.code);
}

/**
 * Closed, reads go through and `failureThreshold` breaking failures in a row open the circuit.
 * Open, reads fail fast until `cooldownMs` has passed on the app's clock; then the next read is
 * the one probe, which the others wait for: its success closes the circuit, its breaking failure
 * opens it again, and any other error (the provider answered) closes it. The breaker owns this
 * timing rather than cockatiel's, which reads Date.now itself.
 */
export function createProviderCircuitBreaker(
  options: CircuitBreakerOptions,
): ProviderCircuitBreaker {
  const now = options.now ?? Date.now;
  let state: CircuitState = { value: 'closed' };
  const isOpen = () => state.value !== 'closed';
  /** Every change of state goes through here, so opening and closing are told once each. */
  function setState(next: CircuitState, probeSucceeded = false): void {
    const was = isOpen();
    state = next;
    if (was !== isOpen()) options.onOpenChange?.(isOpen(), probeSucceeded);
  }
  /** Breaking failures in a row; a success sets it back to zero. */
  let failures = 0;
  let lastFailure: UpstreamError | undefined;

  const open = () => {
    // A read started before the circuit opened may fail after it did: the cool-down runs on.
    if (state.value !== 'open') setState({ value: 'open', openedAt: now() });
  };

  function failFast(openedAt: number): UpstreamError {
    // Fail fast with the code of the failure that opened the circuit, so clients see why.
    const cause = lastFailure;
    const waitSeconds = Math.max(1, Math.ceil((options.cooldownMs - (now() - openedAt)) / 1000));
    return new UpstreamError(
      cause?.code ?? 'UPSTREAM_UNAVAILABLE',
      `${options.providerId}: not called, failing fast after ${options.failureThreshold} failed reads in a row; the next try is in about ${waitSeconds} s${
        cause === undefined
          ? ''
          : ` (last failure: ${stripProvider(cause.message, options.providerId)})`
      }`,
      { providerId: options.providerId },
    );
  }

  /** A read while closed: its outcome counts toward opening. */
  async function closedRead<T>(read: () => Promise<T>): Promise<T> {
    try {
      const value = await read();
      failures = 0;
      return value;
    } catch (error) {
      if (isBreaking(error)) {
        lastFailure = error;
        failures += 1;
        if (failures >= options.failureThreshold) open();
      }
      throw error;
    }
  }

  /** The one read let through after the cool-down; it decides, unless the circuit opened meanwhile. */
  async function probeRead<T>(read: () => Promise<T>): Promise<T> {
    try {
      const value = await read();
      failures = 0;
      if (state.value === 'half-open') setState({ value: 'closed' }, true);
      return value;
    } catch (error) {
      if (isBreaking(error)) {
        lastFailure = error;
        failures += 1;
        open();
      } else if (state.value === 'half-open') {
        // Not a failure of the provider's health: it answered, so the circuit closes.
        setState({ value: 'closed' });
      }
      throw error;
    }
  }

  async function run<T>(read: () => Promise<T>): Promise<T> {
    const current = state;
    if (current.value === 'closed') return closedRead(read);
    if (current.value === 'half-open') {
      // The probe decides; then this read goes by what it decided.
      await current.probe.catch(() => undefined);
      return run(read);
    }
    if (now() - current.openedAt < options.cooldownMs) throw failFast(current.openedAt);
    // Half-open before the probe starts, so that nothing it does at once is overwritten.
    const halfOpen: CircuitState = { value: 'half-open', probe: Promise.resolve() };
    setState(halfOpen);
    const probe = probeRead(read);
    halfOpen.probe = probe;
    return probe;
  }

  return { run, isOpen };
}

function stripProvider(message: string, providerId: string): string {
  return message.startsWith(`${providerId}: `) ? message.slice(providerId.length + 2) : message;
}
