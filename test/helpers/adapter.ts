import type {
  BalanceQuery,
  NormalizedAccount,
  ProviderAdapter,
} from '../../src/providers/adapter.js';
import type { UpstreamHttp } from '../../src/upstream/http.js';

/** A provider's adapter read on its own, with no provider reader around it. */
export interface StandaloneAdapter extends Omit<ProviderAdapter, 'fetchAccounts'> {
  /** One read, every call through the adapter's transport bounded by the query, as a reader does. */
  fetchAccounts(query: BalanceQuery): Promise<NormalizedAccount[]>;
}

/**
 * `adapter` as the tests of one kind read it: each read through its own transport bounded by the
 * query's deadline and signal (none: each call's `timeoutMs`), as the provider reader hands it.
 */
export function standalone(adapter: ProviderAdapter): StandaloneAdapter {
  return {
    kind: adapter.kind,
    capabilities: adapter.capabilities,
    transport: adapter.transport,
    fetchAccounts: (query) => adapter.fetchAccounts(query, adapter.transport.within(query)),
  };
}

/** The transport of a fake adapter that sends nothing: a call through it is the test's mistake. */
export function unusedTransport(): UpstreamHttp {
  const transport: UpstreamHttp = {
    send: () => Promise.reject(new Error('a fake adapter sent an upstream request')),
    within: () => transport,
  };
  return transport;
}
