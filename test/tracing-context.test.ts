import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { SynchronousContextManager } from '../src/tracing/otel.js';

/**
 * The context manager the SDK is given (src/tracing/otel.ts): a context is active only while
 * `with` runs its function synchronously, and nothing follows the code across an await, so no
 * AsyncLocalStorage is ever turned on. The application hands each span its parent instead.
 */
describe('SynchronousContextManager', () => {
  const key = createContextKey('test');

  it('makes a context active while its function runs, and restores the one before after it', () => {
    const manager = new SynchronousContextManager().enable();
    const outer = ROOT_CONTEXT.setValue(key, 'outer');
    const inner = ROOT_CONTEXT.setValue(key, 'inner');
    const seen: unknown[] = [];
    const result = manager.with(outer, () => {
      seen.push(manager.active().getValue(key));
      manager.with(inner, () => seen.push(manager.active().getValue(key)));
      seen.push(manager.active().getValue(key));
      return 'done';
    });
    expect(result).toBe('done');
    expect(seen).toEqual(['outer', 'inner', 'outer']);
    expect(manager.active()).toBe(ROOT_CONTEXT);
  });

  it('restores the context before when the function throws, and passes this and arguments on', () => {
    const manager = new SynchronousContextManager();
    const context = ROOT_CONTEXT.setValue(key, 'x');
    expect(() =>
      manager.with(context, () => {
        throw new Error('refused');
      }),
    ).toThrow('refused');
    expect(manager.active()).toBe(ROOT_CONTEXT);
    const target = { base: 2 };
    const sum = manager.with(
      context,
      function (this: { base: number }, a: number, b: number) {
        return this.base + a + b;
      },
      target,
      3,
      4,
    );
    expect(sum).toBe(9);
  });

  it('does not carry a context across an await: after one, the root context is active', async () => {
    const manager = new SynchronousContextManager();
    const context = ROOT_CONTEXT.setValue(key, 'request');
    const later = await manager.with(context, async () => {
      expect(manager.active().getValue(key)).toBe('request');
      await Promise.resolve();
      return manager.active();
    });
    expect(later).toBe(ROOT_CONTEXT);
    expect(manager.disable().active()).toBe(ROOT_CONTEXT);
  });
});
