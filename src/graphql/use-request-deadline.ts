import type { Plugin } from 'graphql-yoga';
import { withDeadline } from '../upstream/deadline.js';

/**
 * Bounds a whole GraphQL request: every provider read it starts ends by this deadline, however
 * many providers and retries it involves, so the response comes in `budgetMs` plus a little.
 */
export function useRequestDeadline(budgetMs: number): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => withDeadline(budgetMs, async () => executeFn(args)));
    },
  };
}
