import type { ProviderReadEvent } from '../provider-events.js';
import type { ClusterProviderRef } from './keys.js';
import { decodeReadEvent, encodeReadEvent } from './read-codec.js';
import type { RedisLink, RedisOutcome } from './redis-link.js';
import type { ValueCodec } from './value-codec.js';

/**
 * The read events of every (tenant, provider) across the cluster, over Redis pub/sub: each
 * instance publishes the upstream reads it makes (a poll or a query's read, a failure, a stale
 * answer) and every other instance with subscribers of that provider receives them, to keep its
 * provider status and find the balance differences its own subscribers are told. So one instance
 * polls, and subscribers everywhere get the events.
 *
 * One channel per provider (`<prefix>events:<tenant>:<provider>:<digest>`), subscribed only while
 * this instance listens to it. A message is sealed for its tenant and provider, and carries the
 * publishing instance's id so that an instance ignores its own.
 */
export interface ReadEventBus {
  /** Tells the other instances of a read this instance made. How many received it. */
  publish(ref: ClusterProviderRef, event: ProviderReadEvent): Promise<RedisOutcome<number>>;
  /**
   * Calls `listener` with the read events the other instances publish for `ref`. Events
   * published while Redis is down are lost: the instances then poll alone.
   */
  subscribe(
    ref: ClusterProviderRef,
    listener: (event: ProviderReadEvent) => void,
  ): ReadEventSubscription;
}

export interface ReadEventSubscription {
  /** Resolves true once Redis has confirmed the channel's subscription (false if it failed). */
  readonly ready: Promise<boolean>;
  unsubscribe(): void;
}

export interface ReadEventBusOptions {
  link: RedisLink;
  codec: ValueCodec;
}

interface Channel {
  ref: ClusterProviderRef;
  listeners: Set<(event: ProviderReadEvent) => void>;
  ready: Promise<boolean>;
}

export function createReadEventBus(options: ReadEventBusOptions): ReadEventBus {
  const { link, codec } = options;
  const channels = new Map<string, Channel>();
  let listening = false;
  const contextOf = (ref: ClusterProviderRef) => ({
    purpose: 'event',
    tenantId: ref.tenantId,
    providerId: ref.providerId,
  });

  function onMessage(name: string, message: string): void {
    const channel = channels.get(name);
    if (channel === undefined) return;
    const plain = codec.open(message, contextOf(channel.ref));
    if (plain === undefined) return;
    let envelope: { origin?: unknown; event?: unknown };
    try {
      envelope = JSON.parse(plain) as typeof envelope;
    } catch {
      return;
    }
    if (envelope.origin === link.instanceId || typeof envelope.event !== 'string') return;
    const event = decodeReadEvent(envelope.event, channel.ref.providerId);
    if (event === undefined) return;
    for (const listener of [...channel.listeners]) listener(event);
  }

  return {
    publish(ref, event) {
      const message = codec.seal(
        JSON.stringify({ origin: link.instanceId, event: encodeReadEvent(event) }),
        contextOf(ref),
      );
      return link.run((redis) => redis.publish(ref.key('events'), message));
    },
    subscribe(ref, listener) {
      const subscriber = link.subscriber();
      if (!listening) {
        listening = true;
        subscriber.on('message', onMessage);
      }
      const name = ref.key('events');
      let channel = channels.get(name);
      if (channel === undefined) {
        // Sent when the connection is ready, and again after each reconnection.
        const ready = subscriber.subscribe(name).then(
          () => true,
          () => false,
        );
        channel = { ref, listeners: new Set(), ready };
        channels.set(name, channel);
      }
      const own = channel;
      own.listeners.add(listener);
      let subscribed = true;
      return {
        ready: own.ready,
        unsubscribe() {
          if (!subscribed) return;
          subscribed = false;
          own.listeners.delete(listener);
          if (own.listeners.size > 0 || channels.get(name) !== own) return;
          channels.delete(name);
          subscriber.unsubscribe(name).catch(() => {});
        },
      };
    },
  };
}
