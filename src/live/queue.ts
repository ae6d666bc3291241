/**
 * A subscriber's events between the poller, which pushes them when a read settles, and the
 * transport, which takes them as fast as the client reads. A read's events come as one batch
 * (its SNAPSHOTs, or its differences): when a batch comes while more than `maxBuffered` events
 * of earlier ones still wait, the client has stopped reading, and `onOverflow` is called (the
 * transport disconnects it) instead of letting its backlog grow memory. So at most
 * `maxBuffered` plus one read's events ever wait.
 */
export interface EventQueue<T> extends AsyncIterableIterator<T> {
  /** One read's events, in order. */
  push(...values: T[]): void;
  /** Ends the stream after what is buffered (or at once, with `error`). */
  end(error?: Error): void;
  /** How many events wait now. */
  readonly buffered: number;
}

export interface EventQueueOptions {
  /** The most events that may wait; one more is an overflow. */
  maxBuffered: number;
  /** The client has stopped reading: the queue has ended, disconnect it. */
  onOverflow(): void;
  /** Called once when the stream ends, however it ends (consumer's return, end, overflow). */
  onClose(): void;
}

export function createEventQueue<T>(options: EventQueueOptions): EventQueue<T> {
  const buffer: T[] = [];
  let head = 0;
  let waiter: { resolve(result: IteratorResult<T>): void; reject(error: Error): void } | undefined;
  let ended = false;
  let failure: Error | undefined;
  let closed = false;

  function close(): void {
    if (closed) return;
    closed = true;
    options.onClose();
  }

  function settleWaiter(): void {
    if (waiter === undefined) return;
    const pending = waiter;
    if (head < buffer.length) {
      waiter = undefined;
      pending.resolve({ value: take(), done: false });
    } else if (ended) {
      waiter = undefined;
      if (failure !== undefined) pending.reject(failure);
      else pending.resolve({ value: undefined, done: true });
    }
  }

  function take(): T {
    const value = buffer[head] as T;
    buffer[head] = undefined as T;
    head += 1;
    // Emptied: start over, so an array read one event at a time does not keep growing.
    if (head === buffer.length) {
      buffer.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > buffer.length) {
      buffer.splice(0, head);
      head = 0;
    }
    return value;
  }

  function finish(error?: Error): void {
    if (ended) return;
    ended = true;
    failure = error;
    if (error !== undefined) {
      buffer.length = 0;
      head = 0;
    }
    close();
    settleWaiter();
  }

  const queue: EventQueue<T> = {
    get buffered() {
      return buffer.length - head;
    },
    push(...values) {
      if (ended || values.length === 0) return;
      if (buffer.length - head > options.maxBuffered) {
        finish(new Error('the subscriber stopped reading its events'));
        options.onOverflow();
        return;
      }
      for (const value of values) buffer.push(value);
      settleWaiter();
    },
    end(error) {
      finish(error);
    },
    next() {
      if (head < buffer.length) return Promise.resolve({ value: take(), done: false });
      if (ended) {
        if (failure !== undefined) {
          const error = failure;
          failure = undefined;
          return Promise.reject(error);
        }
        return Promise.resolve({ value: undefined, done: true });
      }
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
      });
    },
    return() {
      buffer.length = 0;
      head = 0;
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(error) {
      finish(error instanceof Error ? error : new Error(String(error)));
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return queue;
    },
  };
  return queue;
}
