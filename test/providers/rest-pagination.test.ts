import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappedFailure } from './canned-upstream.js';
import {
  ITEMS_MAPPING,
  items,
  type RestUpstream,
  restAdapter,
  startRestUpstream,
} from './rest-server.js';

/**
 * The rest kind's pagination (page number, offset, cursor), always bounded by maxPages, and how
 * the wanted currencies go into the request: against a loopback upstream that serves a listing
 * of seven items page by page.
 */

let upstream: RestUpstream;
beforeAll(async () => {
  upstream = await startRestUpstream();
});
afterAll(() => upstream.close());

const ALL = ['i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'];

function read(
  path: string,
  pagination: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return restAdapter({
    baseUrl: upstream.baseUrl,
    paths: { balances: path },
    pagination,
    mapping: ITEMS_MAPPING,
    ...extra,
  }).adapter.fetchAccounts({ currencies: null });
}

const ids = (accounts: { upstreamId: string }[]) => accounts.map((account) => account.upstreamId);
const queries = (path: string) => upstream.requests(path).map((request) => request.url);

describe('page numbers', () => {
  beforeAll(() => {
    upstream.route('GET /pages', (request) => {
      const page = Number(request.query.get('p'));
      const size = Number(request.query.get('n') ?? 3);
      return {
        body: {
          ...items(...ALL.slice((page - 1) * size, page * size)),
          pages: Math.ceil(ALL.length / size),
        },
      };
    });
  });

  it('reads pages until one holds fewer records than the page size', async () => {
    const before = upstream.requests('/pages').length;
    const accounts = await read('/pages', { type: 'page', param: 'p', sizeParam: 'n', size: 3 });
    expect(ids(accounts)).toEqual(ALL);
    expect(queries('/pages').slice(before)).toEqual([
      '/pages?p=1&n=3',
      '/pages?p=2&n=3',
      '/pages?p=3&n=3',
    ]);
  });

  it('stops at the total number of pages the answer gives', async () => {
    const before = upstream.requests('/pages').length;
    const accounts = await read('/pages', { type: 'page', param: 'p', totalPagesAt: '/pages' });
    expect(ids(accounts)).toEqual(ALL);
    expect(upstream.requests('/pages').length - before).toBe(3);
  });

  it('counts from page 0 when told to', async () => {
    upstream.route('GET /pages0', (request) => {
      const page = Number(request.query.get('page'));
      return { body: { ...items(...ALL.slice(page * 3, page * 3 + 3)), pages: 3 } };
    });
    const before = upstream.requests('/pages0').length;
    expect(ids(await read('/pages0', { type: 'page', first: 0, totalPagesAt: '/pages' }))).toEqual(
      ALL,
    );
    expect(queries('/pages0').slice(before)).toEqual([
      '/pages0?page=0',
      '/pages0?page=1',
      '/pages0?page=2',
    ]);
  });

  it('past maxPages is UPSTREAM_BAD_RESPONSE, and nothing more is asked', async () => {
    const before = upstream.requests('/pages').length;
    expect(
      await mappedFailure(
        read('/pages', { type: 'page', param: 'p', sizeParam: 'n', size: 3, maxPages: 2 }),
      ),
    ).toEqual({
      code: 'UPSTREAM_BAD_RESPONSE',
      retryable: false,
      message: 'bank: the balance list needs more than maxPages (2) pages',
    });
    expect(upstream.requests('/pages').length - before).toBe(2);
  });
});

describe('offsets', () => {
  beforeAll(() => {
    upstream.route('GET /offsets', (request) => {
      const offset = Number(request.query.get('offset'));
      const limit = Number(request.query.get('limit'));
      return { body: { ...items(...ALL.slice(offset, offset + limit)), total: ALL.length } };
    });
  });

  it('steps by the limit until a short page, or to the total', async () => {
    const before = upstream.requests('/offsets').length;
    expect(ids(await read('/offsets', { type: 'offset', limit: 4 }))).toEqual(ALL);
    expect(queries('/offsets').slice(before)).toEqual([
      '/offsets?offset=0&limit=4',
      '/offsets?offset=4&limit=4',
    ]);
    // Seven items in pages of seven: the total says there is no eighth, without an empty page.
    const again = upstream.requests('/offsets').length;
    expect(ids(await read('/offsets', { type: 'offset', limit: 7, totalAt: '/total' }))).toEqual(
      ALL,
    );
    expect(upstream.requests('/offsets').length - again).toBe(1);
  });
});

describe('cursors', () => {
  beforeAll(() => {
    upstream.route('GET /cursor', (request) => {
      const at = Number(request.query.get('after') ?? 0);
      const next = at + 2 < ALL.length ? String(at + 2) : null;
      return {
        body: { ...items(...ALL.slice(at, at + 2)), paging: { next, more: next !== null } },
      };
    });
    upstream.route('GET /stuck', () => ({ body: { ...items('x'), paging: { next: 'same' } } }));
  });

  it('follows the next cursor until there is none', async () => {
    const before = upstream.requests('/cursor').length;
    const accounts = await read('/cursor', {
      type: 'cursor',
      param: 'after',
      nextAt: '/paging/next',
      sizeParam: 'limit',
      size: 2,
    });
    expect(ids(accounts)).toEqual(ALL);
    expect(queries('/cursor').slice(before)).toEqual([
      '/cursor?limit=2',
      '/cursor?after=2&limit=2',
      '/cursor?after=4&limit=2',
      '/cursor?after=6&limit=2',
    ]);
  });

  it('stops where hasMoreAt says false', async () => {
    const before = upstream.requests('/cursor').length;
    const accounts = await read('/cursor', {
      type: 'cursor',
      param: 'after',
      nextAt: '/paging/next',
      hasMoreAt: '/paging/more',
    });
    expect(ids(accounts)).toEqual(ALL);
    expect(upstream.requests('/cursor').length - before).toBe(4);
  });

  it('a hasMore that is no boolean, or a total that is no number, is UPSTREAM_BAD_RESPONSE', async () => {
    upstream.route('GET /odd', () => ({ body: { ...items('o'), more: 'yes', pages: 'many' } }));
    expect(
      await mappedFailure(read('/odd', { type: 'cursor', nextAt: '/next', hasMoreAt: '/more' })),
    ).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message:
        "bank: the balance list broke the provider's contract: body.more: expected a boolean, received a string",
    });
    expect(
      await mappedFailure(read('/odd', { type: 'page', totalPagesAt: '/pages' })),
    ).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message:
        "bank: the balance list broke the provider's contract: body.pages: expected a whole number, received a string",
    });
  });

  it('past maxPages, or a cursor that repeats, is UPSTREAM_BAD_RESPONSE', async () => {
    expect(
      await mappedFailure(
        read('/cursor', { type: 'cursor', param: 'after', nextAt: '/paging/next', maxPages: 3 }),
      ),
    ).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message: 'bank: the balance list needs more than maxPages (3) pages',
    });
    expect(
      await mappedFailure(read('/stuck', { type: 'cursor', param: 'c', nextAt: '/paging/next' })),
    ).toMatchObject({
      code: 'UPSTREAM_BAD_RESPONSE',
      message:
        "bank: the balance list broke the provider's contract: body.paging.next: expected a new cursor, received the one just sent",
    });
  });
});

describe('the wanted currencies in the request', () => {
  beforeAll(() => {
    upstream.route('GET /filtered', () => ({ body: items('f') }));
    upstream.route('POST /filtered', () => ({ body: items('f') }));
  });

  function adapter(currencies: Record<string, unknown>, method = 'GET', body?: unknown) {
    return restAdapter({
      baseUrl: upstream.baseUrl,
      paths: { balances: '/filtered' },
      request: { method, currencies, ...(body === undefined ? {} : { body }) },
      mapping: ITEMS_MAPPING,
    }).adapter;
  }

  it('as one comma-separated parameter, or the parameter repeated, each code once', async () => {
    const comma = adapter({ in: 'query', name: 'currency' });
    expect(comma.capabilities.currencyFilter).toBe('many');
    await comma.fetchAccounts({ currencies: ['USD', 'eur', 'usd'] });
    await comma.fetchAccounts({ currencies: null });
    const repeat = adapter({ in: 'query', name: 'ccy', style: 'repeat', case: 'lower' });
    await repeat.fetchAccounts({ currencies: ['USD', 'EUR'] });
    expect(queries('/filtered').slice(-3)).toEqual([
      '/filtered?currency=USD%2CEUR',
      '/filtered',
      '/filtered?ccy=usd&ccy=eur',
    ]);
  });

  it('as an array at a pointer of the JSON body, left out when every currency is read', async () => {
    const inBody = adapter({ in: 'body', at: '/filter/assets' }, 'POST', { account: 'a-1' });
    await inBody.fetchAccounts({ currencies: ['BTC', 'usdt'] });
    await inBody.fetchAccounts({ currencies: null });
    expect(
      upstream
        .requests('/filtered')
        .slice(-2)
        .map((request) => request.body),
    ).toEqual(['{"account":"a-1","filter":{"assets":["BTC","USDT"]}}', '{"account":"a-1"}']);
  });

  it('without a currencies entry, every read asks for all', async () => {
    const all = restAdapter({
      baseUrl: upstream.baseUrl,
      paths: { balances: '/filtered' },
      mapping: ITEMS_MAPPING,
    }).adapter;
    expect(all.capabilities.currencyFilter).toBe('none');
  });
});

describe('records that name the same account', () => {
  it('are one account, its balances in the order read, across pages', async () => {
    upstream.route('GET /flat', (request) => {
      const page = Number(request.query.get('page'));
      const rows = [
        [
          { id: 'A', ccy: 'USD', amount: '1' },
          { id: 'B', ccy: 'USD', amount: '2' },
        ],
        [{ id: 'A', ccy: 'EUR', amount: '3' }],
      ];
      return { body: { items: rows[page - 1] ?? [] } };
    });
    const accounts = await read('/flat', { type: 'page', sizeParam: 'n', size: 2 });
    expect(
      accounts.map((account) => [
        account.upstreamId,
        account.balances.map((balance) => `${balance.currency} ${balance.total}`),
      ]),
    ).toEqual([
      ['A', ['USD 1', 'EUR 3']],
      ['B', ['USD 2']],
    ]);
  });
});

describe('one currency by path', () => {
  beforeAll(() => {
    upstream.route('GET /list', () => ({ body: items('L1', 'L2') }));
    upstream.route('GET /one/USD', () => ({
      body: { item: { id: 'U', ccy: 'USD', amount: '9' } },
    }));
    upstream.route('GET /one/XAU', () => ({ status: 404, body: {} }));
  });

  function byPath() {
    return restAdapter({
      baseUrl: upstream.baseUrl,
      paths: { balances: '/list' },
      request: {
        currencies: { in: 'path', path: '/one/{currency}', account: '/item', absent: [404] },
      },
      mapping: ITEMS_MAPPING,
    }).adapter;
  }

  it('reads one currency at its path and anything else from the list; an absent status is no account', async () => {
    const adapter = byPath();
    expect(adapter.capabilities.currencyFilter).toBe('one');
    expect(ids(await adapter.fetchAccounts({ currencies: ['USD'] }))).toEqual(['U']);
    expect(await adapter.fetchAccounts({ currencies: ['XAU'] })).toEqual([]);
    expect(ids(await adapter.fetchAccounts({ currencies: ['USD', 'EUR'] }))).toEqual(['L1', 'L2']);
    expect(ids(await adapter.fetchAccounts({ currencies: null }))).toEqual(['L1', 'L2']);
  });

  it('never lets a code walk up the path: refused before any call', async () => {
    const before = upstream.requests().length;
    await expect(byPath().fetchAccounts({ currencies: ['..'] })).rejects.toThrow(
      'bank: a currency code in a request path must be 1 to 20 ASCII letters, digits, "_" or "-"',
    );
    expect(upstream.requests()).toHaveLength(before);
  });
});
