import type { AppConfig } from '../config/load.js';
import { foldCurrency } from '../currency.js';
import type { PollingTurn, ProviderReadEvent } from '../provider-events.js';
import type { ProviderRuntime } from '../tenants.js';
import { BACKGROUND_TIMERS, type Timers } from '../timers.js';
import { applyRead, type BalanceEventKind, type SeenBalance, seenBalances } from './diff.js';

/** One event of `Subscription.balanceEvents`, before GraphQL shapes it. */
export interface LiveBalanceEvent {
  kind: BalanceEventKind;
  provider: ProviderRuntime;
  /** The value now; undefined for REMOVED. */
  now: SeenBalance | undefined;
  /** The value before; undefined for SNAPSHOT and ADDED. */
  previous: SeenBalance | undefined;
  /** The fetchedAt of the read that saw it. */
  at: Date;
}

/** The timers the pollers run on; tests pass timers they fire by moving a clock. */
export type LiveTimers = Timers;

/** Default `pollIntervalMs` of a provider (CONTRACT.md). */
export const DEFAULT_POLL_INTERVAL_MS = 30_000;

/** A poll comes at the interval times a factor between 1 - JITTER and 1 + JITTER. */
export const POLL_JITTER = 0.1;

/**
 * Each configured provider's `pollIntervalMs`, for `LiveHubOptions.pollIntervalOf`. A runtime that
 * carries its own `pollIntervalMs` (every runtime of `createAppRuntime`, those of a reload
 * included) is polled at that.
 */
export function pollIntervalsOf(config: AppConfig): (provider: ProviderRuntime) => number {
  const intervals = new Map<string, number>();
  for (const tenant of config.tenants) {
    for (const provider of tenant.providers) {
      intervals.set(`${tenant.id}\u0000${provider.id}`, provider.pollIntervalMs);
    }
  }
  return (provider) =>
    provider.pollIntervalMs ??
    intervals.get(`${provider.tenantId}\u0000${provider.id}`) ??
    DEFAULT_POLL_INTERVAL_MS;
}

export interface LiveHubOptions {
  /** A provider's poll interval; default its runtime's `pollIntervalMs`, else 30 000. */
  pollIntervalOf?: (provider: ProviderRuntime) => number;
  /** Default: the real timers, unref'd. */
  timers?: LiveTimers;
  /** Where the jitter comes from, in [0, 1); default Math.random. */
  random?: () => number;
}

/** Where a subscriber's events go; `currencies` (folded) filters them, null for all. */
export interface BalanceSink {
  currencies: ReadonlySet<string> | null;
  /** One read's events for this subscriber (never empty). */
  push(...events: LiveBalanceEvent[]): void;
  /**
   * A reload removed `provider`, one of the subscriber's: the subscription is to end (saying
   * why). The hub has stopped that provider's poller; the subscriber's unsubscribe still detaches
   * it from the others.
   */
  providerRemoved(provider: ProviderRuntime): void;
}

export interface StatusSink {
  push(provider: ProviderRuntime): void;
  /** As `BalanceSink.providerRemoved`. */
  providerRemoved(provider: ProviderRuntime): void;
}

/**
 * The pollers of one process: one per (tenant, provider), running only while that provider has a
 * subscriber, shared by all of them.
 */
export interface LiveHub {
  /** Adds a balanceEvents subscriber of these providers; returns its unsubscribe. */
  subscribeBalances(providers: readonly ProviderRuntime[], sink: BalanceSink): () => void;
  /** Adds a providerStatusChanged subscriber of these providers; returns its unsubscribe. */
  subscribeStatus(providers: readonly ProviderRuntime[], sink: StatusSink): () => void;
  /** How many (tenant, provider) pollers run now. */
  pollers(): number;
  /**
   * A reload replaced `previous` (changed configuration) with `next`: its subscribers go on,
   * reading through `next` from now on (at once, then at `next`'s interval), compared with what
   * they were told before.
   */
  replaceProvider(previous: ProviderRuntime, next: ProviderRuntime): void;
  /** A reload removed `provider`: its poller stops and its subscribers are told to end. */
  removeProvider(provider: ProviderRuntime): void;
  /** Stops every poller; their subscribers are the transports' to end. */
  close(): void;
}

export function createLiveHub(options: LiveHubOptions = {}): LiveHub {
  const timers = options.timers ?? BACKGROUND_TIMERS;
  const random = options.random ?? Math.random;
  const intervalOf =
    options.pollIntervalOf ?? ((provider) => provider.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  // Keyed by the runtime object itself: it is per (tenant, provider), so tenants never share one.
  const pollers = new Map<ProviderRuntime, Poller>();

  function pollerOf(provider: ProviderRuntime): Poller {
    let poller = pollers.get(provider);
    if (poller === undefined) {
      const created = createPoller(provider, {
        timers,
        random,
        intervalMs: intervalOf(provider),
        // The provider it polls by then: a reload may have given it another runtime.
        onIdle: (current) => {
          if (pollers.get(current) === created) pollers.delete(current);
        },
      });
      poller = created;
      pollers.set(provider, poller);
    }
    return poller;
  }

  function attach(providers: readonly ProviderRuntime[], add: (poller: Poller) => () => void) {
    const detach = [...new Set(providers)].map((provider) => add(pollerOf(provider)));
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      for (const leave of detach) leave();
    };
  }

  return {
    subscribeBalances: (providers, sink) => attach(providers, (poller) => poller.addBalance(sink)),
    subscribeStatus: (providers, sink) => attach(providers, (poller) => poller.addStatus(sink)),
    pollers: () => pollers.size,
    replaceProvider(previous, next) {
      const poller = pollers.get(previous);
      if (poller === undefined || previous === next || pollers.has(next)) return;
      pollers.delete(previous);
      pollers.set(next, poller);
      poller.rebind(next, intervalOf(next));
    },
    removeProvider(provider) {
      const poller = pollers.get(provider);
      if (poller === undefined) return;
      pollers.delete(provider);
      poller.remove();
    },
    close() {
      for (const poller of [...pollers.values()]) poller.stop();
      pollers.clear();
    },
  };
}

interface Poller {
  addBalance(sink: BalanceSink): () => void;
  addStatus(sink: StatusSink): () => void;
  /** Polls `next` from now on, at `intervalMs`, keeping its subscribers and what they were told. */
  rebind(next: ProviderRuntime, intervalMs: number): void;
  /** Stops, and tells every subscriber that its provider was removed. */
  remove(): void;
  stop(): void;
}

interface PollerOptions {
  timers: LiveTimers;
  random: () => number;
  intervalMs: number;
  /** The last subscriber left; `provider` is the one polled then. */
  onIdle(provider: ProviderRuntime): void;
}

/**
 * One (tenant, provider)'s poller. It listens to every read of the provider (its own polls and
 * queries' reads alike), keeps what the last reads saw, and tells its subscribers the differences.
 *
 * In a cluster (a runtime with `cluster`), the instances with subscribers of the provider share a
 * polling lease: only its holder polls at the interval (every instance does while Redis does not
 * answer), and each hears the others' reads, so its subscribers get the events of a change
 * whichever instance read it. A new subscriber's first read may come from the cluster's window.
 */
function createPoller(initial: ProviderRuntime, options: PollerOptions): Poller {
  const { timers } = options;
  let provider = initial;
  let intervalMs = options.intervalMs;
  const balanceSinks = new Set<BalanceSink>();
  const statusSinks = new Set<StatusSink>();
  /** Subscribers that have not had their SNAPSHOTs yet. */
  const waiting = new Set<BalanceSink>();
  const known = new Map<string, SeenBalance>();
  /** `known` holds a read of every currency, and the latest read succeeded. */
  let current = false;
  let running = false;
  let polling = false;
  /** Counts polls, so that only the latest one's end clears `polling` and schedules the next. */
  let polls = 0;
  let timer: unknown;
  let stopListening: (() => void)[] = [];
  /** The state and circuit status subscribers were last told of (or found at the start). */
  let toldStatus: { state: string; circuitOpen: boolean } | undefined;
  /** This instance's part in the cluster's polling lease, while running in a cluster. */
  let turn: PollingTurn | undefined;
  let stopHearing: (() => void) | undefined;

  function nextDelay(): number {
    return Math.round(intervalMs * (1 - POLL_JITTER + 2 * POLL_JITTER * options.random()));
  }

  function schedule(delay: number): void {
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = undefined;
      poll();
    }, delay);
  }

  /**
   * `interval`: a tick, which only the lease holder reads on in a cluster; `first`: the read a new
   * poller makes at once for its subscribers' SNAPSHOTs; `now`: a read at once, whoever polls.
   */
  function poll(why: 'interval' | 'first' | 'now' = 'interval'): void {
    if (!running) return;
    if (why === 'interval' && turn !== undefined && !turn.polls()) {
      // Another instance polls for the cluster; its reads come through onRead.
      schedule(nextDelay());
      return;
    }
    polling = true;
    polls += 1;
    const mine = polls;
    // A cluster's first read may be another instance's, from the shared window: no read event.
    const shared = why === 'first' && provider.cluster !== undefined;
    // The event comes through onRead, whoever else waits on the same read; the outcome is not ours.
    provider
      .read({ currencies: null, fresh: !shared })
      .then(
        (read) => {
          // Told as a read unless its own event (or a newer read of everything) came first.
          if (shared && mine === polls && !current) {
            onRead({ ok: true, currencies: null, read, stale: read.stale === true });
          }
        },
        () => {},
      )
      .finally(() => {
        // A reload may have started a poll of the provider's new runtime meanwhile.
        if (mine !== polls) return;
        polling = false;
        if (running) schedule(nextDelay());
      });
  }

  function snapshot(sink: BalanceSink, from: Iterable<SeenBalance>): void {
    const events: LiveBalanceEvent[] = [];
    for (const seen of from) {
      if (!matches(sink, seen)) continue;
      events.push({
        kind: 'SNAPSHOT',
        provider,
        now: seen,
        previous: undefined,
        at: seen.fetchedAt,
      });
    }
    if (events.length > 0) sink.push(...events);
  }

  function onRead(event: ProviderReadEvent): void {
    if (!event.ok) {
      current = false;
      return;
    }
    const covered = event.currencies === null ? null : new Set(event.currencies.map(foldCurrency));
    const { read } = event;
    const seen = seenBalances(read.accounts, covered, read.fetchedAt, event.stale);
    if (event.stale) {
      // An earlier read answering for a failed one is no news: nothing is compared with it, but a
      // subscriber still waiting may take its SNAPSHOTs from it, marked stale. What it shows them
      // becomes what the next read is compared with, where nothing newer was seen.
      for (const [key, value] of seen) if (!known.has(key)) known.set(key, value);
      for (const sink of [...waiting]) {
        if (!covers(covered, sink.currencies)) continue;
        waiting.delete(sink);
        snapshot(sink, seen.values());
      }
      return;
    }
    const differences = applyRead(known, seen, covered);
    if (covered === null) {
      current = true;
      // A query read everything just now: the next poll can wait a whole interval.
      if (running && !polling) schedule(nextDelay());
    }
    if (differences.length > 0) {
      const events = differences.map(
        (difference): LiveBalanceEvent => ({ ...difference, provider, at: read.fetchedAt }),
      );
      for (const sink of balanceSinks) {
        if (waiting.has(sink)) continue;
        const wanted =
          sink.currencies === null
            ? events
            : events.filter((event) => matches(sink, (event.now ?? event.previous) as SeenBalance));
        if (wanted.length > 0) sink.push(...wanted);
      }
    }
    for (const sink of [...waiting]) {
      if (!covers(covered, sink.currencies)) continue;
      waiting.delete(sink);
      snapshot(sink, known.values());
    }
  }

  function listen(): void {
    stopListening = [
      provider.onRead(onRead),
      provider.onStatusChange((status) => {
        // A runtime that replaced another (a reload) finds again the state its subscribers know.
        if (toldStatus?.state === status.state && toldStatus.circuitOpen === status.circuitOpen) {
          return;
        }
        toldStatus = { state: status.state, circuitOpen: status.circuitOpen };
        for (const sink of [...statusSinks]) sink.push(provider);
      }),
    ];
  }

  /** In a cluster: hears the other instances' reads and takes part in the polling lease. */
  function joinCluster(): void {
    const { cluster } = provider;
    if (cluster === undefined) return;
    stopHearing = cluster.listen();
    // Taking the lease over needs nothing here: the next tick polls.
    turn = cluster.keepLease(() => {});
  }

  function leaveCluster(): void {
    stopHearing?.();
    stopHearing = undefined;
    turn?.stop();
    turn = undefined;
  }

  function start(): void {
    if (running) return;
    running = true;
    const { state, circuitOpen } = provider.status();
    toldStatus = { state, circuitOpen };
    listen();
    joinCluster();
    // The first subscriber should not wait a whole interval for its SNAPSHOTs.
    poll('first');
  }

  function stop(): void {
    running = false;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = undefined;
    for (const unlisten of stopListening) unlisten();
    stopListening = [];
    leaveCluster();
    known.clear();
    current = false;
  }

  function leave(): void {
    if (balanceSinks.size > 0 || statusSinks.size > 0 || !running) return;
    stop();
    options.onIdle(provider);
  }

  return {
    addBalance(sink) {
      balanceSinks.add(sink);
      const wasRunning = running;
      start();
      if (wasRunning && current) snapshot(sink, known.values());
      else waiting.add(sink);
      return () => {
        balanceSinks.delete(sink);
        waiting.delete(sink);
        leave();
      };
    },
    addStatus(sink) {
      statusSinks.add(sink);
      start();
      return () => {
        statusSinks.delete(sink);
        leave();
      };
    },
    rebind(next, nextIntervalMs) {
      for (const unlisten of stopListening) unlisten();
      stopListening = [];
      leaveCluster();
      provider = next;
      intervalMs = nextIntervalMs;
      if (!running) return;
      listen();
      joinCluster();
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      // Read through the new runtime at once: its subscribers learn soon whether it works.
      poll('now');
    },
    remove() {
      const removed = provider;
      stop();
      for (const sink of [...balanceSinks]) sink.providerRemoved(removed);
      for (const sink of [...statusSinks]) sink.providerRemoved(removed);
      balanceSinks.clear();
      statusSinks.clear();
      waiting.clear();
    },
    stop,
  };
}

function matches(sink: BalanceSink, seen: SeenBalance): boolean {
  return sink.currencies === null || sink.currencies.has(foldCurrency(seen.balance.currency));
}

/** Whether a read that covered `covered` answers everything a subscriber filtered by `wanted` asks. */
function covers(covered: ReadonlySet<string> | null, wanted: ReadonlySet<string> | null): boolean {
  if (covered === null) return true;
  return wanted !== null && [...wanted].every((currency) => covered.has(currency));
}
