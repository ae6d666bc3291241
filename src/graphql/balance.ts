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
      kind: t.expose('kind', { type: BalanceComponentKindEnum }),
      amount: t.expose('amount', { type: 'Decimal' }),
    }),
  });

const DepositAddressRef = builder
  .objectRef<{ network: string; address: string; memo: string | undefined }>('DepositAddress')
  .implement({
    fields: (t) => ({
      network: t.exposeString('network'),
      address: t.exposeString('address'),
      memo: t.exposeString('memo', { nullable: true }),
    }),
  });

BalanceRef.implement({
  description: 'The balance of one currency (on one network) in one account.',
  fields: (t) => ({
    currency: t.exposeString('currency'),
    network: t.exposeString('network', { nullable: true }),
    total: t.expose('total', { type: 'Decimal' }),
    available: t.expose('available', { type: 'Decimal' }),
    components: t.expose('components', { type: [BalanceComponentRef] }),
    depositAddresses: t.expose('depositAddresses', { type: [DepositAddressRef] }),
    updatedAt: t.expose('updatedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the provider says the balance last changed, where it says.',
    }),
    fetchedAt: t.expose('fetchedAt', {
      type: 'DateTime',
      description: 'When this process read it from the provider.',
    }),
    stale: t.exposeBoolean('stale', {
      description:
        "True when served from an earlier read because the current one failed (stale-if-error); fetchedAt is then that read's time.",
    }),
    account: t.expose('account', { type: AccountRef }),
    raw: t.field({
      type: 'JSON',
      description: "The provider's own record, for what the normalized fields leave out.",
      resolve: (view) => toRawJson(view.raw),
    }),
  }),
});
