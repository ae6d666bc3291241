import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The deadline of the work under way: one provider read (its login, its calls and their retries),
 * itself never later than the GraphQL request's own deadline. Times are `performance.now()`
 * milliseconds, immune to wall-clock jumps and to the movable clocks tests use for token lives.
 */
const deadlines = new AsyncLocalStorage<number>();

/** Runs `work` with a deadline `budgetMs` from now, or the enclosing one if that is sooner. */
export function withDeadline<T>(budgetMs: number, work: () => Promise<T>): Promise<T> {
  const enclosing = deadlines.getStore();
  const deadline = performance.now() + budgetMs;
  return deadlines.run(enclosing === undefined ? deadline : Math.min(enclosing, deadline), work);
}

/** Milliseconds left before the current deadline, or undefined outside of one. */
export function remainingMs(): number | undefined {
  const deadline = deadlines.getStore();
  return deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
}
