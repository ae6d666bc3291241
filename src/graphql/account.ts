import { balanceMatcher } from '../balance-loader.js';
import { builder } from '../builder.js';
import { balancesArguments } from './balances-arguments.js';
import { orClientError } from './errors.js';
import { AccountRef, accountView, BalanceRef, balanceView, ProviderRef } from './refs.js';

AccountRef.implement({
  description: 'An account at a provider: a balance number, an asset account, a wallet.',
  fields: (t) => ({
    id: t.exposeID('id', {
      description: 'Unique across providers: "<provider id>:<upstream id>".',
    }),
    upstreamId: t.exposeString('upstreamId', { description: "The provider's own id." }),
    provider: t.expose('provider', { type: ProviderRef }),
    name: t.exposeString('name', { nullable: true }),
    type: t.exposeString('type', { nullable: true }),
    status: t.exposeString('status', { nullable: true }),
    suppressed: t.exposeBoolean('suppressed', {
      description: 'True when the provider has disabled the use of this account.',
    }),
    balances: t.field({
      type: [BalanceRef],
      args: balancesArguments(t),
      resolve: (view, args) =>
        view.account.balances
          .filter(balanceMatcher(args))
          .map((balance) => balanceView(view, balance)),
    }),
  }),
});

// A federation entity. References go through the request's balance loader, so a gateway asking
// for any number of accounts of one provider costs that provider one upstream read.
builder.asEntity(AccountRef, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: async ({ id }, context) => {
    const separator = id.indexOf(':');
    const provider = separator < 0 ? undefined : context.tenant.byId.get(id.slice(0, separator));
    if (provider === undefined) return null;
    const upstreamId = id.slice(separator + 1);
    const snapshot = await orClientError(
      context.loaders.balances.load({ providerId: provider.id, currencies: null }),
    );
    const account = snapshot.accounts.find((candidate) => candidate.upstreamId === upstreamId);
    return account === undefined ? null : accountView(provider, account, snapshot);
  },
});
