import type { ExecutionResult } from 'graphql';

/**
 * The results of a GraphQL over SSE response ("distinct connections mode": `event: next` with a
 * JSON result, then `event: complete`), read only as fast as they are asked for, so that a slow
 * reader holds the stream back instead of buffering it. Returning cancels the stream.
 */
export function readServerSentEvents(
  body: ReadableStream<Uint8Array>,
  /** Called when the reader stops early: the producer's request is over. */
  onReturn: () => void = () => {},
): AsyncIterableIterator<ExecutionResult> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let done = false;

  async function nextEvent(): Promise<ExecutionResult | undefined> {
    while (!done) {
      const end = text.indexOf('\n\n');
      if (end >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
        if (event === 'complete') {
          done = true;
          await reader.cancel().catch(() => {});
          return undefined;
        }
        if (data.length > 0) return JSON.parse(data.join('\n')) as ExecutionResult;
        continue;
      }
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        return undefined;
      }
      text += decoder.decode(chunk.value, { stream: true });
    }
    return undefined;
  }

  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const value = await nextEvent();
      return value === undefined ? { value: undefined, done: true } : { value, done: false };
    },
    async return() {
      if (!done) {
        done = true;
        onReturn();
        await reader.cancel().catch(() => {});
      }
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
