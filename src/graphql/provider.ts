import { balanceMatcher } from '../balance-loader.js';
import { builder } from '../builder.js';
import type { ProviderErrorView, ProviderStatusView } from '../provider-events.js';
import { PROVIDER_KIND_DEFINITIONS, type ProviderKind } from '../providers/kinds.js';
import { balancesArguments } from './balances-arguments.js';
import { orClientError } from './errors.js';
import { AccountRef, accountView, BalanceRef, balanceView, ProviderRef } from './refs.js';

/** One value per kind of the kinds list, named and described by the kind's definition. */
export const ProviderKindEnum = builder.enumType('ProviderKind', {
  description: 'The kinds of upstream provider balance-api can read.',
  values: Object.fromEntries(
    PROVIDER_KIND_DEFINITIONS.map((definition) => [
      definition.graphql.value,
      { value: definition.name, description: definition.graphql.description },
    ]),
  ) as Record<string, { value: ProviderKind; description: string | undefined }>,
});

export const ProviderStateEnum = builder.enumType('ProviderState', {
  description: "How a provider's last read went.",
  values: {
    UNKNOWN: { description: 'Not read yet.' },
    UP: { description: 'Its last read succeeded.' },
    DOWN: { description: 'Its last read failed, or its circuit is open.' },
  } as const,
});

const ProviderErrorRef = builder.objectRef<ProviderErrorView>('ProviderError').implement({
  description: "A failure of a provider's read, as the client was told it.",
  fields: (t) => ({
    code: t.exposeString('code'),
    message: t.exposeString('message'),
    retryable: t.exposeBoolean('retryable'),
    at: t.expose('at', { type: 'DateTime', description: 'When the read failed.' }),
  }),
});

const ProviderStatusRef = builder.objectRef<ProviderStatusView>('ProviderStatus').implement({
  description: "A provider's health as this instance last saw it, kept in memory.",
  fields: (t) => ({
    state: t.expose('state', { type: ProviderStateEnum }),
    circuitOpen: t.exposeBoolean('circuitOpen', {
      description: 'True while its circuit breaker fails reads fast without calling it.',
    }),
    lastSuccessAt: t.expose('lastSuccessAt', { type: 'DateTime', nullable: true }),
    lastFailureAt: t.expose('lastFailureAt', { type: 'DateTime', nullable: true }),
    lastError: t.expose('lastError', {
      type: ProviderErrorRef,
      nullable: true,
      description: 'The most recent failure, also after a later success.',
    }),
  }),
});

ProviderRef.implement({
  description: "One configured upstream provider of the caller's tenant.",
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: ProviderKindEnum }),
    name: t.exposeString('name'),
    status: t.field({
      type: ProviderStatusRef,
      description: 'Its status, answered from memory: never calls the upstream.',
      resolve: (provider) => provider.status(),
    }),
    accounts: t.field({
      type: [AccountRef],
      nullable: true,
      description: 'Every account at the provider; null, with an error, when the upstream fails.',
      resolve: async (provider, _args, context) => {
        const snapshot = await orClientError(
          context.loaders.balances.load({ providerId: provider.id, currencies: null }),
        );
        return snapshot.accounts.map((account) => accountView(provider, account, snapshot));
      },
    }),
    balances: t.field({
      type: [BalanceRef],
      nullable: true,
      description:
        'All balances of all its accounts, optionally only these currencies (matched without regard to case).',
      args: balancesArguments(t),
      resolve: async (provider, args, context) => {
        const snapshot = await orClientError(
          context.loaders.balances.load({
            providerId: provider.id,
            currencies: args.currencies ?? null,
          }),
        );
        const matches = balanceMatcher(args);
        return snapshot.accounts.flatMap((account) => {
          const view = accountView(provider, account, snapshot);
          return account.balances.filter(matches).map((balance) => balanceView(view, balance));
        });
      },
    }),
  }),
});

builder.queryType({});

builder.queryField('providers', (t) =>
  t.field({
    type: [ProviderRef],
    description: "The caller's providers, in configuration order.",
    resolve: (_root, _args, context) => context.tenant.providers,
  }),
);

builder.queryField('provider', (t) =>
  t.field({
    type: ProviderRef,
    nullable: true,
    description: 'One provider by id; null for an unknown id.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, context) => context.tenant.byId.get(String(args.id)) ?? null,
  }),
);

// A federation entity: a gateway resolves `Provider` by id through this subgraph.
builder.asEntity(ProviderRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: ({ id }, context) => context.tenant.byId.get(id) ?? null,
});
