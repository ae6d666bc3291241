import type { Plugin } from 'graphql-yoga';
import { currencyArgumentErrors } from './use-currency-arguments.js';

/**
 * The currency-code check of `useCurrencyArguments` for subscriptions, which graphql runs through
 * `subscribe`, not `execute`: a bad code in `balanceEvents(currencies:)` refuses the subscription
 * before it starts (BAD_USER_INPUT, one error per bad argument), as it refuses a query.
 */
export function useSubscriptionArguments(): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = currencyArgumentErrors(
        args.schema,
        args.document,
        args.operationName,
        args.variableValues,
      );
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
