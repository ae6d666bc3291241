import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { printSubgraphSdl } from '../src/graphql/index.js';
import type { PikRecordData } from '../src/providers/pik/sandbox.js';
import { createDemoConfigDocument, createDemoSandboxData } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { isLoginCall } from '../src/sandbox/kinds.js';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import { type AppRuntime, createAppRuntime } from '../src/tenants.js';

const SUBGRAPH_FILE = new URL('../schema/subgraph.graphql', import.meta.url);

it('schema/subgraph.graphql is the subgraph SDL the code builds (run `npm run schema` after changing it)', () => {
  expect(printSubgraphSdl()).toBe(readFileSync(SUBGRAPH_FILE, 'utf8'));
});

/** 50 PIK accounts, so that a gateway resolving them all shows what one read per provider means. */
function fiftyPikAccounts(): PikRecordData[] {
  return Array.from({ length: 50 }, (_, index) => ({
    balanceNo: `PIK-${String(index).padStart(3, '0')}`,
    accountType: 'GLOBAL_ACCOUNT',
    accountName: `Account ${index}`,
    assetType: 'FIAT',
    currencyCode: 'USD',
    currencyName: 'US Dollar',
    networkCode: '',
    balance: `${index}.01`,
    availableBalance: `${index}.01`,
    frozenBalance: '0',
    pendingBalance: '0',
    status: 'ACTIVE',
    lastChangeTime: '2026-11-20T00:00:00.000Z',
  }));
}

/** A second subgraph written for the test: it knows who owns each account. */
const OWNERS_SDL = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])
  type Account @key(fields: "id") {
    id: ID!
    owner: String!
  }
  type Query {
    ownedAccounts(owner: String!): [Account!]!
  }
`;
const ownerOf = (accountId: string) =>
  accountId.startsWith('pik-main:') ? 'treasury-team' : 'ops-team';

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}

describe('composed into a gateway with another subgraph (Hive Gateway, over HTTP)', () => {
  let sandbox: Sandbox;
  let runtime: AppRuntime;
  let balances: BalanceServer;
  let owners: { server: Server; url: string };
  let gateway: { server: Server; url: string };
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const data = createDemoSandboxData();
    const [customer] = data.pik.customers;
    if (customer) customer.records = fiftyPikAccounts();
    sandbox = await startSandbox({ data });
    // Coalescing off: the counts below are those of the per-request loaders alone.
    const document = createDemoConfigDocument((kind) => `${sandbox.origin}/${kind}`);
    document.providers = document.providers.map((provider) => ({
      ...provider,
      coalesceReads: false,
    }));
    const config = parseConfig(document, {
      source: 'test',
      env: {},
      baseDir: '.',
    });
    runtime = createAppRuntime({ config });
    balances = await startBalanceServer({ runtime, server: { ...config.server, port: 0 } });

    const pikIds = fiftyPikAccounts().map((record) => `pik-main:${record.balanceNo}`);
    const ownersSchema = buildSubgraphSchema({
      typeDefs: parse(OWNERS_SDL),
      resolvers: {
        Query: {
          ownedAccounts: (_root: unknown, { owner }: { owner: string }) =>
            [...pikIds, 'ops:101', 'ops:102', 'acquirer:417971020']
              .filter((id) => ownerOf(id) === owner)
              .map((id) => ({ id, owner })),
        },
        Account: {
          __resolveReference: ({ id }: { id: string }) => ({ id, owner: ownerOf(id) }),
        },
      },
    });
    owners = await listen(createYoga({ schema: ownersSchema, logging: false }));

    // The balances subgraph's SDL as a gateway gets it: from `_service { sdl }`.
    const service = await fetch(`${balances.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    const { data: serviceData } = (await service.json()) as { data: { _service: { sdl: string } } };
    const composed = composeServices([
      {
        name: 'balances',
        typeDefs: parse(serviceData._service.sdl),
        url: `${balances.origin}/graphql`,
      },
      { name: 'owners', typeDefs: parse(OWNERS_SDL), url: owners.url },
    ]);
    if (composed.errors?.length)
      throw new Error(composed.errors.map((error) => error.message).join('\n'));
    const supergraph = composed.supergraphSdl as string;
    const gatewayRuntime = createGatewayRuntime({
      supergraph,
      logging: false,
      maskedErrors: false,
      // Subscriptions go to the subgraph over SSE; by POST, as queries do (a GET would need the
      // CSRF header that balance-api asks of every GET).
      transportEntries: { balances: { options: { method: 'POST' } } },
    });
    dispose = () => gatewayRuntime.dispose() as Promise<void>;
    gateway = await listen(gatewayRuntime);
  });

  afterAll(async () => {
    await dispose?.();
    for (const server of [gateway?.server, owners?.server]) {
      if (server) await new Promise((resolve) => server.close(resolve));
    }
    await balances?.close();
    await runtime?.close();
    await sandbox?.close();
  });

  async function throughGateway(query: string) {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    if (body.errors) console.log(JSON.stringify(body.errors));
    expect(response.status).toBe(200);
    return body;
  }

  const pikReads = () =>
    sandbox.calls('pik').filter((call) => call.path === '/api/v1/balance/list');

  it('answers _service { sdl } with the subgraph SDL of schema/subgraph.graphql', async () => {
    const response = await fetch(`${balances.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ _service { sdl } }' }),
    });
    const body = (await response.json()) as { data: { _service: { sdl: string } } };
    expect(body.data._service.sdl.trim()).toBe(readFileSync(SUBGRAPH_FILE, 'utf8').trim());
  });

  it('resolves accounts from balance-api and their owners from the other subgraph', async () => {
    sandbox.clearCalls();
    const result = await throughGateway(
      '{ provider(id: "acquirer") { name accounts { id owner balances { currency total } } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      provider: {
        name: 'Card acquirer',
        accounts: [
          {
            id: 'acquirer:417971020',
            owner: 'ops-team',
            balances: [{ currency: 'USD', total: '12386.00' }],
          },
          {
            id: 'acquirer:417971021',
            owner: 'ops-team',
            balances: [{ currency: 'EUR', total: '420.40' }],
          },
        ],
      },
    });
    expect(
      sandbox.calls('merchant').filter((call) => call.path === '/v2/account/balance'),
    ).toHaveLength(1);
  });

  it('resolves 50 accounts of one provider, referenced by the other subgraph, with one upstream read', async () => {
    sandbox.clearCalls();
    const result = await throughGateway(
      '{ ownedAccounts(owner: "treasury-team") { id owner name balances { currency total } provider { id } } }',
    );
    expect(result.errors).toBeUndefined();
    const accounts = result.data?.ownedAccounts as {
      id: string;
      name: string;
      balances: { total: string }[];
    }[];
    expect(accounts).toHaveLength(50);
    expect(accounts[7]).toMatchObject({
      id: 'pik-main:PIK-007',
      name: 'Account 7',
      balances: [{ total: '7.01' }],
    });
    expect(pikReads()).toHaveLength(1);
    // Nothing else was read for them.
    expect(sandbox.calls().filter((call) => !isLoginCall(call.kind, call.path))).toHaveLength(1);
  });

  it('mixes both subgraphs in one query, still one read per provider', async () => {
    sandbox.clearCalls();
    const result = await throughGateway(`{
      ownedAccounts(owner: "ops-team") { id owner balances { currency total } }
      totals(currencies: ["USD"]) { currencies { currency total } }
    }`);
    expect(result.errors).toBeUndefined();
    const owned = result.data?.ownedAccounts as { id: string }[];
    expect(owned.map((account) => account.id)).toEqual([
      'ops:101',
      'ops:102',
      'acquirer:417971020',
    ]);
    // The gateway sends balance-api two requests (totals, then the owners' accounts as
    // _entities); each reads a provider at most once: asset-accounts and merchant twice in all,
    // PIK once, by currency, for the totals alone.
    const reads = (kind: 'asset-accounts' | 'merchant' | 'pik') =>
      sandbox
        .calls(kind)
        .filter((call) => !isLoginCall(kind, call.path))
        .map((call) => call.path);
    expect(reads('asset-accounts')).toEqual([
      '/api/v1/customer/accounts/balances',
      '/api/v1/customer/accounts/balances',
    ]);
    expect(reads('merchant')).toEqual(['/v2/account/balance', '/v2/account/balance']);
    expect(reads('pik')).toEqual(['/api/v1/balance/USD']);
  });

  it('answers null for an account reference that does not exist', async () => {
    const response = await fetch(`${balances.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Account { id name } ... on Provider { id kind } } }',
        variables: {
          r: [
            { __typename: 'Account', id: 'acquirer:417971020' },
            { __typename: 'Account', id: 'acquirer:nope' },
            { __typename: 'Account', id: 'nope:1' },
            { __typename: 'Provider', id: 'treasury' },
          ],
        },
      }),
    });
    expect(await response.json()).toEqual({
      data: {
        _entities: [
          { id: 'acquirer:417971020', name: 'Account (USD)' },
          null,
          null,
          { id: 'treasury', kind: 'WALLET' },
        ],
      },
    });
  });

  it('delivers a subscription through the gateway (SSE to the subgraph), its Account fields resolved by the other subgraph', async () => {
    const abort = new AbortController();
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({
        query: `subscription {
          balanceEvents(providerIds: ["pik-main"], currencies: ["usd"]) {
            kind accountId currency balance { total account { id owner } }
          }
        }`,
      }),
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    let data: string | undefined;
    while (data === undefined) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      data = /event: next\ndata: (.*)\n/.exec(text)?.[1];
    }
    abort.abort();
    expect(JSON.parse(data ?? 'null')).toEqual({
      data: {
        balanceEvents: {
          kind: 'SNAPSHOT',
          accountId: 'pik-main:PIK-000',
          currency: 'USD',
          balance: {
            total: '0.01',
            account: { id: 'pik-main:PIK-000', owner: 'treasury-team' },
          },
        },
      },
    });
  });
});
