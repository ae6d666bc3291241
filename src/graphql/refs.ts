import type { ProviderSnapshot } from '../balance-loader.js';
import { builder } from '../builder.js';
import type { Amount } from '../money.js';
import type { NormalizedAccount, NormalizedBalance } from '../providers/adapter.js';
import type { ProviderRuntime } from '../tenants.js';

/**
 * An account as read in one snapshot of its provider. Its scalar fields are properties under
 * their GraphQL names, so they are read without a resolver call (see src/graphql/index.ts).
 */
export interface AccountView {
  id: string;
  upstreamId: string;
  name: string | undefined;
  type: string | undefined;
  status: string | undefined;
  suppressed: boolean;
  provider: ProviderRuntime;
  account: NormalizedAccount;
  snapshot: ProviderSnapshot;
}

/**
 * A balance with what its fields need beyond the provider's record: its account, its read's time,
 * and whether that read is an earlier one answering for a failed one (stale-if-error).
 */
export type BalanceView = NormalizedBalance & {
  account: AccountView;
  fetchedAt: Date;
  stale: boolean;
};

export function accountView(
  provider: ProviderRuntime,
  account: NormalizedAccount,
  snapshot: ProviderSnapshot,
): AccountView {
  return {
    id: `${provider.id}:${account.upstreamId}`,
    upstreamId: account.upstreamId,
    name: account.name,
    type: account.type,
    status: account.status,
    suppressed: account.suppressed,
    provider,
    account,
    snapshot,
  };
}

/** Property by property, not by spreading: one object shape whatever the kind of provider. */
export function balanceView(account: AccountView, balance: NormalizedBalance): BalanceView {
  return {
    currency: balance.currency,
    network: balance.network,
    total: balance.total,
    available: balance.available,
    components: balance.components,
    depositAddresses: balance.depositAddresses,
    updatedAt: balance.updatedAt,
    raw: balance.raw,
    account,
    fetchedAt: account.snapshot.fetchedAt,
    stale: account.snapshot.stale === true,
  };
}

export interface TotalsView {
  complete: boolean;
  missingProviders: string[];
  /** Providers counted from an earlier read because the current one failed. */
  staleProviders: string[];
  currencies: { currency: string; total: Amount; available: Amount }[];
}

// The object types refer to each other, so their refs are declared here and implemented in the
// type's own file.
export const ProviderRef = builder.objectRef<ProviderRuntime>('Provider');
export const AccountRef = builder.objectRef<AccountView>('Account');
export const BalanceRef = builder.objectRef<BalanceView>('Balance');
export const TotalsRef = builder.objectRef<TotalsView>('Totals');
