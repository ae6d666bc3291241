import type { ProviderSnapshot } from '../balance-loader.js';
import { builder } from '../builder.js';
import type { Amount } from '../money.js';
import type { NormalizedAccount, NormalizedBalance } from '../providers/adapter.js';
import type { ProviderRuntime } from '../tenants.js';

/** An account as read in one snapshot of its provider. */
export interface AccountView {
  provider: ProviderRuntime;
  account: NormalizedAccount;
  snapshot: ProviderSnapshot;
}

export interface BalanceView {
  account: AccountView;
  balance: NormalizedBalance;
}

export interface TotalsView {
  complete: boolean;
  missingProviders: string[];
  currencies: { currency: string; total: Amount; available: Amount }[];
}

// The object types refer to each other, so their refs are declared here and implemented in the
// type's own file.
export const ProviderRef = builder.objectRef<ProviderRuntime>('Provider');
export const AccountRef = builder.objectRef<AccountView>('Account');
export const BalanceRef = builder.objectRef<BalanceView>('Balance');
export const TotalsRef = builder.objectRef<TotalsView>('Totals');
