import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createCallerAuthenticator } from '../../src/caller-auth.js';
import { createLiveHub, type LiveTimers, pollIntervalsOf } from '../../src/live/hub.js';
import type { BalanceServer } from '../../src/server.js';
import { startBalanceServer } from '../../src/server.js';
import { startTestApp, type TestApp, type TestAppOptions } from './app.js';

/**
 * Timers that fire only when a test moves them: the pollers' clock. `advance` runs every timer
 * due, in order, including ones set by the timers it runs, if they fall within the move.
 */
export interface ManualTimers extends LiveTimers {
  advance(ms: number): void;
  /** Timers waiting now. */
  pending(): number;
}

export function createManualTimers(): ManualTimers {
  let now = 0;
  let sequence = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  return {
    setTimeout(callback, ms) {
      sequence += 1;
      timers.set(sequence, { at: now + ms, callback });
      return sequence;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        let next: [number, { at: number; callback: () => void }] | undefined;
        for (const entry of timers) {
          if (entry[1].at <= until && (next === undefined || entry[1].at < next[1].at)) {
            next = entry;
          }
        }
        if (next === undefined) break;
        timers.delete(next[0]);
        now = next[1].at;
        next[1].callback();
      }
      now = until;
    },
    pending: () => timers.size,
  };
}

export interface LiveApp extends TestApp {
  server: BalanceServer;
  timers: ManualTimers;
  /** The GraphQL URL: http://host:port/graphql. */
  url: string;
}

/** A sandbox, balance-api on a real port over it, and pollers on timers the test moves. */
export async function startLiveApp(
  options: TestAppOptions & { subscriptions?: Record<string, number> } = {},
): Promise<LiveApp> {
  const app = await startTestApp(options);
  const timers = createManualTimers();
  const server = await startBalanceServer({
    runtime: app.runtime,
    authenticator: createCallerAuthenticator(
      app.config.auth,
      new Set(app.config.tenants.map((tenant) => tenant.id)),
    ),
    server: {
      ...app.config.server,
      port: 0,
      subscriptions: { ...app.config.server.subscriptions, ...options.subscriptions },
    },
    // Jitter in the middle: every poll exactly at the interval.
    liveHub: createLiveHub({
      timers,
      random: () => 0.5,
      pollIntervalOf: pollIntervalsOf(app.config),
    }),
  });
  return {
    ...app,
    server,
    timers,
    url: `${server.origin}/graphql`,
    async close() {
      await server.close();
      await app.close();
    },
  };
}

/** One GraphQL over SSE subscription, read event by event over a real socket. */
export interface SseSubscription {
  status: number;
  headers: Headers;
  /** The next `next` event's result; rejects when the stream ends first. */
  next(): Promise<{ data?: Record<string, unknown> | null; errors?: unknown[] }>;
  /** Resolves when the server ends the stream (`complete` or the connection closes). */
  ended: Promise<void>;
  close(): void;
}

export async function subscribeSse(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<SseSubscription> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const events: unknown[] = [];
  const waiters: { resolve(value: unknown): void; reject(error: Error): void }[] = [];
  let finished = false;
  let endedResolve: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    endedResolve = resolve;
  });
  const finish = () => {
    finished = true;
    endedResolve();
    for (const waiter of waiters.splice(0)) waiter.reject(new Error('the stream ended'));
  };
  if (response.body === null || !(response.headers.get('content-type') ?? '').includes('stream')) {
    const body = await response.text();
    events.push(JSON.parse(body));
    finish();
  } else {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    void (async () => {
      try {
        for (;;) {
          const chunk = await reader.read();
          if (chunk.done) break;
          text += decoder.decode(chunk.value, { stream: true });
          for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
            const block = text.slice(0, end);
            text = text.slice(end + 2);
            const lines = block.split('\n');
            const event = lines
              .find((line) => line.startsWith('event:'))
              ?.slice(6)
              .trim();
            const data = lines
              .filter((line) => line.startsWith('data:'))
              .map((line) => line.slice(5).trim())
              .join('\n');
            if (event === 'complete') continue;
            if (data === '') continue;
            const value = JSON.parse(data);
            const waiter = waiters.shift();
            if (waiter !== undefined) waiter.resolve(value);
            else events.push(value);
          }
        }
      } catch {
        // Aborted or cut: the stream has ended either way.
      }
      finish();
    })();
  }
  return {
    status: response.status,
    headers: response.headers,
    next() {
      if (events.length > 0) return Promise.resolve(events.shift() as never);
      if (finished) return Promise.reject(new Error('the stream ended'));
      return new Promise((resolve, reject) => waiters.push({ resolve: resolve as never, reject }));
    },
    ended,
    close: () => abort.abort(),
  };
}

/** A graphql-ws client over a real WebSocket, with what the server closed it with. */
export function wsClient(url: string, connectionParams?: Record<string, unknown>) {
  let closed: (event: { code: number; reason: string }) => void = () => {};
  const closedWith = new Promise<{ code: number; reason: string }>((resolve) => {
    closed = resolve;
  });
  const client = createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closed({ code, reason: String(reason) });
      },
    },
    onNonLazyError: () => {},
  });
  return { client, closedWith };
}

/** One subscription of a graphql-ws client, read result by result. */
export function subscribeWs(
  client: ReturnType<typeof createClient>,
  query: string,
  variables?: Record<string, unknown>,
) {
  const iterator = client.iterate({ query, variables });
  return {
    async next() {
      const result = await iterator.next();
      if (result.done === true) throw new Error('the subscription ended');
      return result.value as { data?: Record<string, unknown> | null; errors?: unknown[] };
    },
    close: () => iterator.return?.(),
  };
}

/** POSTs one GraphQL request to a real server: its status and JSON body. */
export async function postGraphQL(
  url: string,
  query: string,
  headers: Record<string, string> = {},
) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { errors?: unknown[] } };
}

/** A subscription to pik-main's balance events in `$currencies`, with totals and staleness. */
export const PIK_BALANCE_EVENTS = `subscription ($currencies: [String!]) {
  balanceEvents(providerIds: ["pik-main"], currencies: $currencies) {
    kind currency balance { total stale } previous { total }
  }
}`;

/** One event of `PIK_BALANCE_EVENTS`. */
export interface BalanceEventShape {
  kind: string;
  currency: string;
  balance: { total: string; stale: boolean } | null;
  previous: { total: string } | null;
}

/** The next event of a `PIK_BALANCE_EVENTS` subscription. */
export const balanceEventOf = async (subscription: SseSubscription) =>
  (await subscription.next()).data?.balanceEvents as BalanceEventShape;
