import { builder } from '../builder.js';
import type { Amount } from '../money.js';
import type { BalanceComponentKind } from '../providers/adapter.js';
import { toRawJson } from '../upstream/json.js';
import { AccountRef, BalanceRef } from './refs.js';

export const BalanceComponentKindEnum = builder.enumType('BalanceComponentKind', {
  description: 'What part of a balance a component is.',
  values: {
    PENDING: { description: 'Incoming, not yet settled.' },
    RESERVED: { description: 'Held while a transaction awaits authorization.' },
    FROZEN: { description: 'Frozen by the provider.' },
    HOLD: { description: 'In processing.' },
    LOCKED: { description: 'Blocked, e.g. by an AML policy.' },
    GIFT: { description: 'Promotional credit, spendable.' },
    REFERRAL: { description: 'Referral rewards pot; not part of the total.' },
  } as const satisfies Record<BalanceComponentKind, { description: string }>,
});

const BalanceComponentRef = builder
  .objectRef<{ kind: BalanceComponentKind; amount: Amount }>('BalanceComponent')
  .implement({
    fields: (t) => ({
      kind: t.field({ type: BalanceComponentKindEnum, resolve: (component) => component.kind }),
      amount: t.field({ type: 'Decimal', resolve: (component) => component.amount }),
    }),
  });

const DepositAddressRef = builder
  .objectRef<{ network: string; address: string; memo: string | undefined }>('DepositAddress')
  .implement({
    fields: (t) => ({
      network: t.exposeString('network'),
      address: t.exposeString('address'),
      memo: t.string({ nullable: true, resolve: (deposit) => deposit.memo ?? null }),
    }),
  });

BalanceRef.implement({
  description: 'The balance of one currency (on one network) in one account.',
  fields: (t) => ({
    currency: t.string({ resolve: (view) => view.balance.currency }),
    network: t.string({ nullable: true, resolve: (view) => view.balance.network ?? null }),
    total: t.field({ type: 'Decimal', resolve: (view) => view.balance.total }),
    available: t.field({ type: 'Decimal', resolve: (view) => view.balance.available }),
    components: t.field({
      type: [BalanceComponentRef],
      resolve: (view) => view.balance.components,
    }),
    depositAddresses: t.field({
      type: [DepositAddressRef],
      resolve: (view) => view.balance.depositAddresses,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the provider says the balance last changed, where it says.',
      resolve: (view) => view.balance.updatedAt ?? null,
    }),
    fetchedAt: t.field({
      type: 'DateTime',
      description: 'When this process read it from the provider.',
      resolve: (view) => view.account.snapshot.fetchedAt,
    }),
    account: t.field({ type: AccountRef, resolve: (view) => view.account }),
    raw: t.field({
      type: 'JSON',
      description: "The provider's own record, for what the normalized fields leave out.",
      resolve: (view) => toRawJson(view.balance.raw),
    }),
  }),
});
