import { GraphQLError, type GraphQLResolveInfo, getArgumentValues } from 'graphql';
import type { ProviderSnapshot } from '../balance-loader.js';
import { builder } from '../builder.js';
import type { RequestContext } from '../context.js';
import { foldCurrency } from '../currency.js';
import type { SeenBalance } from '../live/diff.js';
import type { LiveBalanceEvent } from '../live/hub.js';
import type { LiveRequest } from '../live/service.js';
import type { Amount } from '../money.js';
import type { BalanceComponentKind } from '../providers/adapter.js';
import type { ProviderRuntime } from '../tenants.js';
import { accountView, BalanceRef, type BalanceView, balanceView, ProviderRef } from './refs.js';

const BalanceEventKindEnum = builder.enumType('BalanceEventKind', {
  description: 'What a balance event says.',
  values: {
    SNAPSHOT: { description: 'The balance as it is now, sent first to a new subscriber.' },
    ADDED: { description: 'A balance that was not there before.' },
    CHANGED: { description: 'Its total, available amount or a component differs.' },
    REMOVED: { description: 'A balance that is no longer there.' },
  } as const,
});

interface BalanceValueView {
  total: Amount;
  available: Amount;
  components: { kind: BalanceComponentKind; amount: Amount }[];
}

const BalanceValueRef = builder.objectRef<BalanceValueView>('BalanceValue').implement({
  description: 'The amounts of a balance at one time.',
  fields: (t) => ({
    total: t.expose('total', { type: 'Decimal' }),
    available: t.expose('available', { type: 'Decimal' }),
    // BalanceComponent is implemented beside Balance (balance.ts); named here, resolved by name.
    components: t.field({
      type: ['BalanceComponent'] as never,
      resolve: (value) => value.components as never,
    }),
  }),
});

/** A balance event as its fields read it: plain properties under their GraphQL names. */
interface BalanceEventView {
  kind: LiveBalanceEvent['kind'];
  providerId: string;
  accountId: string;
  currency: string;
  network: string | undefined;
  balance: BalanceView | null;
  previous: BalanceValueView | null;
  at: Date;
}

const BalanceEventRef = builder.objectRef<BalanceEventView>('BalanceEvent').implement({
  description: "A balance's change, or its value when a subscription starts (SNAPSHOT).",
  fields: (t) => ({
    kind: t.expose('kind', { type: BalanceEventKindEnum }),
    providerId: t.exposeID('providerId'),
    accountId: t.exposeID('accountId', {
      description: '"<provider id>:<upstream id>", as Account.id.',
    }),
    currency: t.exposeString('currency'),
    network: t.exposeString('network', { nullable: true }),
    balance: t.expose('balance', {
      type: BalanceRef,
      nullable: true,
      description: 'The value now; null for REMOVED.',
    }),
    previous: t.expose('previous', {
      type: BalanceValueRef,
      nullable: true,
      description: 'The value before; null for SNAPSHOT and ADDED.',
    }),
    at: t.expose('at', { type: 'DateTime', description: 'The fetchedAt of the read that saw it.' }),
  }),
});

/** The event as GraphQL shows it: the balance as a Balance of its read, the previous amounts. */
function eventView(event: LiveBalanceEvent): BalanceEventView {
  const { provider } = event;
  const seen = (event.now ?? event.previous) as SeenBalance;
  return {
    kind: event.kind,
    providerId: provider.id,
    accountId: `${provider.id}:${seen.account.upstreamId}`,
    currency: seen.balance.currency,
    network: seen.balance.network,
    balance: event.now === undefined ? null : balanceOf(provider, event.now),
    previous:
      event.previous === undefined
        ? null
        : {
            total: event.previous.balance.total,
            available: event.previous.balance.available,
            components: event.previous.balance.components,
          },
    at: event.at,
  };
}

function balanceOf(provider: ProviderRuntime, seen: SeenBalance): BalanceView {
  const snapshot: ProviderSnapshot = {
    provider,
    accounts: [seen.account],
    fetchedAt: seen.fetchedAt,
    stale: seen.stale,
  };
  return balanceView(accountView(provider, seen.account, snapshot), seen.balance);
}

/**
 * The last item of a subscription whose provider a configuration reload removed: its resolver
 * throws the error, so the client gets one result saying so, then the stream completes.
 */
class SubscriptionEnd {
  readonly error: GraphQLError;
  constructor(provider: ProviderRuntime) {
    this.error = new GraphQLError(
      `Provider "${provider.id}" was removed from the configuration: this subscription has ended. Subscribe again to follow the providers configured now.`,
      { extensions: { code: 'PROVIDER_REMOVED', providerId: provider.id, retryable: false } },
    );
  }
}

/** What a subscription's resolver returns for one item: the item, or the end's error thrown. */
function itemOrEnd<T>(item: T | SubscriptionEnd): T {
  if (item instanceof SubscriptionEnd) throw item.error;
  return item;
}

/** The subscription's context: the transport's live request, or an error where there is none. */
function liveOf(context: RequestContext & { live?: LiveRequest }): LiveRequest {
  if (context.live !== undefined) return context.live;
  throw new GraphQLError(
    'Subscriptions are served over Server-Sent Events (Accept: text/event-stream) or the graphql-transport-ws WebSocket protocol at /graphql.',
    { extensions: { code: 'BAD_REQUEST' } },
  );
}

/** The longest provider id a message quotes; an id has id syntax, anything else is described. */
const QUOTABLE_ID = /^[a-z0-9-]{1,64}$/;

/** The tenant's providers named by `providerIds` (all of them when null); unknown ids refused. */
function providersOf(
  context: RequestContext,
  field: string,
  providerIds: readonly (string | number)[] | null | undefined,
): ProviderRuntime[] {
  if (providerIds === null || providerIds === undefined) return context.tenant.providers;
  const errors: GraphQLError[] = [];
  const providers: ProviderRuntime[] = [];
  providerIds.forEach((raw, index) => {
    const id = String(raw);
    const provider = context.tenant.byId.get(id);
    if (provider !== undefined) {
      providers.push(provider);
      return;
    }
    const received = QUOTABLE_ID.test(id) ? `"${id}"` : 'an id that is none of them';
    errors.push(
      new GraphQLError(
        `Subscription.${field}(providerIds:) item ${index}: expected the id of one of your providers, received ${received}`,
        { extensions: { code: 'BAD_USER_INPUT' } },
      ),
    );
  });
  // One error per unknown id would be lost here: graphql's subscribe reports the first thrown.
  const [first] = errors;
  if (first !== undefined) throw first;
  return providers;
}

interface SubscriptionArguments {
  providerIds?: readonly (string | number)[] | null;
  currencies?: readonly string[] | null;
}

/**
 * The field's arguments, read from the operation: graphql-jit, which compiles subscriptions too,
 * hands `subscribe` the operation's variables in place of the field's arguments.
 */
function argumentsOf(info: GraphQLResolveInfo): SubscriptionArguments {
  const field = info.parentType.getFields()[info.fieldName];
  const node = info.fieldNodes[0];
  if (field === undefined || node === undefined) return {};
  return getArgumentValues(field, node, info.variableValues) as SubscriptionArguments;
}

/**
 * Maps an async iterator's values; returning it returns the source. `next` chains on the source's
 * promise rather than awaiting it: a suspended async function would keep its frame per waiting
 * subscriber.
 */
function mapIterator<T, U>(source: AsyncIterableIterator<T>, map: (value: T) => U) {
  const step = (result: IteratorResult<T>): IteratorResult<U> =>
    result.done === true ? result : { value: map(result.value), done: false };
  const mapped: AsyncIterableIterator<U> = {
    next: () => source.next().then(step),
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}

builder.subscriptionType({
  description: 'Live balances: events as reads of the providers find differences.',
  fields: (t) => ({
    balanceEvents: t.field({
      type: BalanceEventRef,
      description:
        "SNAPSHOT events for every matching balance first, then one event per difference found by later reads of these providers (all the caller's when null), optionally only these currencies.",
      args: {
        providerIds: t.arg.idList({ required: false }),
        currencies: t.arg.stringList({ required: false }),
      },
      subscribe: (_root, _args, context, info) => {
        const live = liveOf(context);
        const args = argumentsOf(info);
        const providers = providersOf(context, 'balanceEvents', args.providerIds);
        const currencies =
          args.currencies === null || args.currencies === undefined
            ? null
            : new Set(args.currencies.map(foldCurrency));
        let unsubscribe = () => {};
        const queue = live.open<LiveBalanceEvent | SubscriptionEnd>(() => unsubscribe());
        unsubscribe = live.hub.subscribeBalances(providers, {
          currencies,
          push: (...events) => queue.push(...events),
          providerRemoved: (provider) => {
            queue.push(new SubscriptionEnd(provider));
            queue.end();
          },
        });
        return mapIterator(queue, (item) =>
          item instanceof SubscriptionEnd ? item : eventView(item),
        );
      },
      resolve: (event: BalanceEventView | SubscriptionEnd) => itemOrEnd(event),
    }),
    providerStatusChanged: t.field({
      type: ProviderRef,
      description:
        "The provider each time its status.state changes (changes only: query status for the current state), of these providers (all the caller's when null).",
      args: { providerIds: t.arg.idList({ required: false }) },
      subscribe: (_root, _args, context, info) => {
        const live = liveOf(context);
        const providers = providersOf(
          context,
          'providerStatusChanged',
          argumentsOf(info).providerIds,
        );
        let unsubscribe = () => {};
        const queue = live.open<ProviderRuntime | SubscriptionEnd>(() => unsubscribe());
        unsubscribe = live.hub.subscribeStatus(providers, {
          push: (provider) => queue.push(provider),
          providerRemoved: (provider) => {
            queue.push(new SubscriptionEnd(provider));
            queue.end();
          },
        });
        return queue;
      },
      resolve: (provider: ProviderRuntime | SubscriptionEnd) => itemOrEnd(provider),
    }),
  }),
});
