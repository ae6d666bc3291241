import { describe, expect, it } from 'vitest';
import { createBalanceLoader } from '../src/balance-loader.js';
import type { ProviderRead } from '../src/provider-reader.js';
import { createProviderStatusTracker } from '../src/provider-status.js';
import type { BalanceQuery } from '../src/providers/adapter.js';
import type { ProviderRuntime, TenantRuntime } from '../src/tenants.js';
import { unusedTransport } from './helpers/adapter.js';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('the request loader', () => {
  it('starts a later batch at once, without waiting for an earlier read that does not cover it', async () => {
    const started: string[] = [];
    let releaseUsd: () => void = () => {};
    const provider = (id: string): ProviderRuntime => {
      const status = createProviderStatusTracker();
      const read = (query: BalanceQuery): Promise<ProviderRead> => {
        started.push(`${id}:${query.currencies?.join(',') ?? '*'}`);
        const result = { accounts: [], fetchedAt: new Date() };
        // a's USD read stays under way until released.
        if (id === 'a' && query.currencies?.[0] === 'USD') {
          return new Promise((resolve) => {
            releaseUsd = () => resolve(result);
          });
        }
        return Promise.resolve(result);
      };
      return {
        tenantId: 't',
        id,
        kind: 'wallet',
        name: id,
        adapter: {
          kind: 'wallet',
          capabilities: { currencyFilter: 'many' },
          transport: unusedTransport(),
          fetchAccounts: async () => [],
        },
        read: Object.assign(read, { cachedShapes: () => 0, staleShapes: () => 0, status }),
        status: status.view,
        onRead: status.onRead,
        onStatusChange: status.onStatusChange,
      };
    };
    const providers = [provider('a'), provider('b')];
    const tenant: TenantRuntime = {
      id: 't',
      providers,
      byId: new Map(providers.map((runtime) => [runtime.id, runtime])),
    };
    const loader = createBalanceLoader(tenant);
    const first = loader.load({ providerId: 'a', currencies: ['USD'] });
    await nextTurn();
    await nextTurn();
    const second = Promise.all([
      loader.load({ providerId: 'a', currencies: ['EUR'] }),
      loader.load({ providerId: 'b', currencies: null }),
    ]);
    await nextTurn();
    await nextTurn();
    expect(started).toEqual(['a:USD', 'a:EUR', 'b:*']);
    releaseUsd();
    await first;
    await second;
  });
});
