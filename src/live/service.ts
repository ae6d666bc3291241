import { GraphQLError } from 'graphql';
import type { LiveHub } from './hub.js';
import { createEventQueue, type EventQueue } from './queue.js';

/** The caps on subscriptions, from the configuration's `server.subscriptions`. */
export interface SubscriptionLimits {
  /** Subscriptions at once on one connection (one WebSocket); default 100. */
  maxPerConnection: number;
  /** Subscriptions at once of one caller (one credential, or one address without auth); default 1000. */
  maxPerCaller: number;
  /** Events waiting for one subscriber before it is disconnected as not reading; default 1000. */
  maxBufferedEvents: number;
}

/** What a subscription resolver gets in its context: the hub and a way to open a stream. */
export interface LiveRequest {
  hub: LiveHub;
  /**
   * A new subscriber's event stream, counted against the caps (a GraphQLError past one); the
   * count is released and `onClose` called when the stream ends, however it ends.
   */
  open<T>(onClose: () => void): EventQueue<T>;
}

/** Who a subscription belongs to, as the transport knows it. */
export interface LiveOrigin {
  /** The caller: a digest of its credential, or its address when authentication is off. */
  caller: string;
  /** The connection it came on (a WebSocket, or the HTTP socket of an SSE request). */
  connection: object;
  /** Cuts the connection of a client that has stopped reading. */
  disconnect(): void;
}

/** Every subscription of one server: the hub, the caps, and the streams to end at shutdown. */
export interface LiveService {
  readonly hub: LiveHub;
  readonly limits: SubscriptionLimits;
  request(origin: LiveOrigin): LiveRequest;
  /** Subscriptions open now. */
  active(): number;
  /** Ends every stream (the drain) and stops the pollers; new subscriptions are refused. */
  close(): void;
}

export function createLiveService(hub: LiveHub, limits: SubscriptionLimits): LiveService {
  const open = new Set<EventQueue<unknown>>();
  const byCaller = new Map<string, number>();
  const byConnection = new WeakMap<object, number>();
  let closed = false;

  function refuse(message: string): GraphQLError {
    return new GraphQLError(message, { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' } });
  }

  return {
    hub,
    limits,
    active: () => open.size,
    request(origin) {
      return {
        hub,
        open<T>(onClose: () => void): EventQueue<T> {
          if (closed) {
            throw new GraphQLError('The server is shutting down: no new subscriptions.', {
              extensions: { code: 'SHUTTING_DOWN' },
            });
          }
          const ofConnection = byConnection.get(origin.connection) ?? 0;
          if (ofConnection >= limits.maxPerConnection) {
            throw refuse(
              `Too many subscriptions on this connection: at most ${limits.maxPerConnection} at once (server.subscriptions.maxPerConnection).`,
            );
          }
          const ofCaller = byCaller.get(origin.caller) ?? 0;
          if (ofCaller >= limits.maxPerCaller) {
            throw refuse(
              `Too many subscriptions of this caller: at most ${limits.maxPerCaller} at once (server.subscriptions.maxPerCaller).`,
            );
          }
          byConnection.set(origin.connection, ofConnection + 1);
          byCaller.set(origin.caller, ofCaller + 1);
          const queue: EventQueue<T> = createEventQueue<T>({
            maxBuffered: limits.maxBufferedEvents,
            onOverflow: () => origin.disconnect(),
            onClose: () => {
              open.delete(queue as EventQueue<unknown>);
              const connectionLeft = (byConnection.get(origin.connection) ?? 1) - 1;
              if (connectionLeft > 0) byConnection.set(origin.connection, connectionLeft);
              else byConnection.delete(origin.connection);
              const callerLeft = (byCaller.get(origin.caller) ?? 1) - 1;
              if (callerLeft > 0) byCaller.set(origin.caller, callerLeft);
              else byCaller.delete(origin.caller);
              onClose();
            },
          });
          open.add(queue as EventQueue<unknown>);
          return queue;
        },
      };
    },
    close() {
      closed = true;
      for (const queue of [...open]) queue.end();
      hub.close();
    },
  };
}
