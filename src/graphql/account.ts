import { balanceMatcher } from '../balance-loader.js';
import { AccountRef, BalanceRef, ProviderRef } from './refs.js';

AccountRef.implement({
  description: 'An account at a provider: a balance number, an asset account, a wallet.',
  fields: (t) => ({
    id: t.id({
      description: 'Unique across providers: "<provider id>:<upstream id>".',
      resolve: (view) => `${view.provider.id}:${view.account.upstreamId}`,
    }),
    upstreamId: t.string({
      description: "The provider's own id.",
      resolve: (view) => view.account.upstreamId,
    }),
    provider: t.field({ type: ProviderRef, resolve: (view) => view.provider }),
    name: t.string({ nullable: true, resolve: (view) => view.account.name ?? null }),
    type: t.string({ nullable: true, resolve: (view) => view.account.type ?? null }),
    status: t.string({ nullable: true, resolve: (view) => view.account.status ?? null }),
    suppressed: t.boolean({
      description: 'True when the provider has disabled the use of this account.',
      resolve: (view) => view.account.suppressed,
    }),
    balances: t.field({
      type: [BalanceRef],
      args: {
        currencies: t.arg.stringList({
          required: false,
          description: 'Only these currency codes, matched without regard to case.',
        }),
        minTotal: t.arg({
          type: 'Decimal',
          required: false,
          description: 'Only balances whose total is at least this, e.g. "0.01" to hide dust.',
        }),
      },
      resolve: (view, args) =>
        view.account.balances
          .filter(balanceMatcher(args))
          .map((balance) => ({ account: view, balance })),
    }),
  }),
});
