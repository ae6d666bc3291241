import { isLosslessNumber } from 'lossless-json';
import { CURRENCY_CODE_RULE, isCurrencyCode } from '../../currency.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp } from '../../upstream/http.js';
import type { NormalizedAccount } from '../adapter.js';
import { readWithinContract } from '../bad-response.js';
import type { RestCallAuth } from './auth.js';
import { REST_DEFAULT_BALANCES_PATH, type RestConfig } from './config.js';
import type { RestAnswerReader } from './errors.js';
import { type CompiledMapping, compileRestMapping, type Redactor } from './normalize.js';
import { type JsonPointer, parsePointer, pointerWhere, readPointer } from './pointer.js';
import { compileJsonTemplate, compileTemplate, type Render, withQuery } from './request.js';

/**
 * The balance read of a `rest` provider: its request as configured (the wanted currencies put
 * where the configuration says), page after page up to `maxPages`, each answer settled by the
 * error table and read through the mapping.
 */

/** What one read gives: the accounts, and the last answer's headers (a rotated token's). */
export interface RestRead {
  accounts: NormalizedAccount[];
  response: { headers: Record<string, unknown> };
}

export interface RestBalanceReader {
  read(
    http: UpstreamHttp,
    auth: RestCallAuth,
    currencies: readonly string[] | null,
    redact: Redactor,
  ): Promise<RestRead>;
}

type Parameters = [string, string][];

/** Where the next page starts, or undefined after the last one. */
type Next = Parameters | undefined;

export function createRestBalanceReader(
  config: RestConfig,
  settle: RestAnswerReader,
  mapping: CompiledMapping,
): RestBalanceReader {
  const { request, pagination } = config;
  const providerId = config.id;
  const path = config.paths.balances ?? REST_DEFAULT_BALANCES_PATH;
  const values = { credentials: config.credentials };
  const query = Object.entries(request.query).map(
    ([name, text]) => [name, compileTemplate(text, config, false)] as const,
  );
  const headers = Object.entries(request.headers).map(
    ([name, text]) => [name, compileTemplate(text, config, false)] as const,
  );
  const body: Render<unknown> | undefined =
    request.body === undefined ? undefined : compileJsonTemplate(request.body, config);
  const wanted = request.currencies;
  const currenciesAt = wanted?.in === 'body' ? (parsePointer(wanted.at) as JsonPointer) : undefined;
  const at = (text: string | undefined) =>
    text === undefined ? undefined : (parsePointer(text) as JsonPointer);
  const hasMoreAt = pagination.type === 'none' ? undefined : at(pagination.hasMoreAt);
  const what = { call: 'balances' as const, what: 'the balance list' };

  /** The codes as the upstream wants them, each once. */
  const codes = (currencies: readonly string[]) => [
    ...new Set(
      currencies.map((code) =>
        wanted?.case === 'lower' ? code.toLowerCase() : code.toUpperCase(),
      ),
    ),
  ];

  /** The parameters of the first page. */
  function firstPage(): Parameters {
    switch (pagination.type) {
      case 'none':
        return [];
      case 'page':
        return [
          [pagination.param, String(pagination.first)],
          ...size(pagination.sizeParam, pagination.size),
        ];
      case 'offset':
        return [
          [pagination.param, '0'],
          [pagination.limitParam, String(pagination.limit)],
        ];
      case 'cursor':
        return size(pagination.sizeParam, pagination.size);
    }
  }

  /** The parameters of the page after the one just read, or undefined when it was the last. */
  function nextPage(body: unknown, records: number, pageIndex: number, sent: Parameters): Next {
    if (pagination.type === 'none') return undefined;
    if (hasMoreAt !== undefined) {
      const more = readPointer(body, hasMoreAt);
      if (more === false) return undefined;
      if (more !== true && more !== undefined && more !== null) {
        throw new ContractViolation(
          `${pointerWhere('body', hasMoreAt)}: expected a boolean, received ${describe(more)}`,
        );
      }
    }
    switch (pagination.type) {
      case 'page': {
        // The number of the page just read (pageIndex counts from 1).
        const number = pagination.first + pageIndex - 1;
        const totalAt = at(pagination.totalPagesAt);
        if (totalAt !== undefined) {
          if (number >= wholeNumber(body, totalAt) + pagination.first - 1) return undefined;
        } else if (records === 0 || (pagination.size !== undefined && records < pagination.size)) {
          return undefined;
        }
        return [
          [pagination.param, String(number + 1)],
          ...size(pagination.sizeParam, pagination.size),
        ];
      }
      case 'offset': {
        const offset = pageIndex * pagination.limit;
        const totalAt = at(pagination.totalAt);
        if (totalAt !== undefined) {
          if (offset >= wholeNumber(body, totalAt)) return undefined;
        } else if (records < pagination.limit) return undefined;
        if (records === 0) return undefined;
        return [
          [pagination.param, String(offset)],
          [pagination.limitParam, String(pagination.limit)],
        ];
      }
      case 'cursor': {
        const nextAt = parsePointer(pagination.nextAt) as JsonPointer;
        const value = readPointer(body, nextAt);
        if (value === undefined || value === null || value === '') return undefined;
        const cursor = isLosslessNumber(value)
          ? value.value
          : typeof value === 'string'
            ? value
            : undefined;
        const where = pointerWhere('body', nextAt);
        if (cursor === undefined) {
          throw new ContractViolation(`${where}: expected a cursor, received ${describe(value)}`);
        }
        if (sent.some(([name, sentValue]) => name === pagination.param && sentValue === cursor)) {
          throw new ContractViolation(
            `${where}: expected a new cursor, received the one just sent`,
          );
        }
        return [[pagination.param, cursor], ...size(pagination.sizeParam, pagination.size)];
      }
    }
  }

  // A one-currency read by path answers its own shape: the mapping from that answer's root.
  const byPath = wanted?.in === 'path' ? wanted : undefined;
  const oneMapping =
    byPath === undefined
      ? undefined
      : byPath.account === undefined && byPath.accounts === undefined
        ? mapping
        : compileRestMapping({
            ...config.mapping,
            account: byPath.account,
            accounts: byPath.accounts,
          });

  /** What every call of a read carries: the configured query and headers, and the auth's. */
  function callParts(auth: RestCallAuth): {
    parameters: Parameters;
    headers: Record<string, string>;
  } {
    const parameters: Parameters = query.map(([name, render]) => [name, render(values)]);
    parameters.push(...Object.entries(auth.query));
    const callHeaders: Record<string, string> = Object.fromEntries(
      headers.map(([name, render]) => [name, render(values)]),
    );
    return { parameters, headers: Object.assign(callHeaders, auth.headers) };
  }

  /** One currency at its own path: its answer read from that path's root; `absent` is none. */
  async function readOne(
    http: UpstreamHttp,
    auth: RestCallAuth,
    code: string,
    redact: Redactor,
    byCurrency: { path: string; absent: readonly number[]; mapping: CompiledMapping },
  ): Promise<RestRead> {
    const parts = callParts(auth);
    const json = body?.(values);
    const response = await http.send({
      method: request.method,
      path: withQuery(
        byCurrency.path.replace('{currency}', () => currencySegment(providerId, code)),
        parts.parameters,
      ),
      template: byCurrency.path,
      headers: parts.headers,
      ...(json === undefined ? {} : { json }),
      // The balances path, with the currency in it.
      route: 'balances',
    });
    const read = (accounts: NormalizedAccount[]): RestRead => ({
      accounts,
      response: { headers: response.headers },
    });
    // The provider holds no such currency: no account, not an error.
    if (byCurrency.absent.includes(response.status)) return read([]);
    const outcome = settle(response, what);
    if (outcome.kind === 'empty') return read([]);
    return read(
      mergeAccounts(
        readWithinContract(
          providerId,
          'the balance by currency',
          () => byCurrency.mapping.read(outcome.body, redact).accounts,
        ),
      ),
    );
  }

  /** The list, page after page, the wanted currencies where the configuration puts them. */
  async function readPages(
    http: UpstreamHttp,
    auth: RestCallAuth,
    currencies: readonly string[] | null,
    redact: Redactor,
  ): Promise<RestRead> {
    const { parameters, headers: callHeaders } = callParts(auth);
    let json = body?.(values);
    if (currencies !== null && wanted !== undefined && wanted.in !== 'path') {
      const list = codes(currencies);
      if (wanted.in === 'body') json = withArrayAt(json ?? {}, currenciesAt as JsonPointer, list);
      else if (wanted.style === 'comma') parameters.push([wanted.name, list.join(',')]);
      else for (const code of list) parameters.push([wanted.name, code]);
    }
    const accounts: NormalizedAccount[] = [];
    let page: Next = firstPage();
    let lastHeaders: Record<string, unknown> = {};
    const maxPages = pagination.type === 'none' ? 1 : pagination.maxPages;
    for (let index = 1; page !== undefined; index += 1) {
      if (index > maxPages) {
        throw new UpstreamError(
          'UPSTREAM_BAD_RESPONSE',
          `${providerId}: the balance list needs more than maxPages (${maxPages}) pages`,
          { providerId },
        );
      }
      const sent: Parameters = page;
      const response = await http.send({
        method: request.method,
        path: withQuery(path, [...parameters, ...sent]),
        headers: callHeaders,
        ...(json === undefined ? {} : { json }),
        route: 'balances',
      });
      const outcome = settle(response, what);
      lastHeaders = response.headers;
      if (outcome.kind === 'empty') break;
      const pageIndex = index;
      page = readWithinContract(providerId, 'the balance list', () => {
        const read = mapping.read(outcome.body, redact);
        accounts.push(...read.accounts);
        return nextPage(outcome.body, read.records, pageIndex, sent);
      });
    }
    return { accounts: mergeAccounts(accounts), response: { headers: lastHeaders } };
  }

  return {
    read(http, auth, currencies, redact) {
      const single = currencies?.length === 1 ? currencies[0] : undefined;
      if (byPath !== undefined && oneMapping !== undefined && single !== undefined) {
        const [code = ''] = codes([single]);
        return readOne(http, auth, code, redact, { ...byPath, mapping: oneMapping });
      }
      return readPages(http, auth, currencies, redact);
    },
  };
}

/**
 * Records that name the same account (a flat list of one record per account and currency, on
 * one page or several) are one account: the first record's name, type, status and suppressed,
 * and every record's balances in the order read.
 */
function mergeAccounts(accounts: NormalizedAccount[]): NormalizedAccount[] {
  const byId = new Map<string, NormalizedAccount>();
  for (const account of accounts) {
    const first = byId.get(account.upstreamId);
    if (first === undefined)
      byId.set(account.upstreamId, { ...account, balances: [...account.balances] });
    else first.balances.push(...account.balances);
  }
  return byId.size === accounts.length ? accounts : [...byId.values()];
}

/**
 * A currency code as one path segment, which no code can turn into more (a slash) or into a walk
 * up the path (".", "..", "%2e"). Codes reaching here were checked where they entered; one that
 * is not a currency code is a plain error, before the call: the provider did nothing wrong.
 */
function currencySegment(providerId: string, code: string): string {
  const segment = encodeURIComponent(code);
  if (!isCurrencyCode(code) || /^(?:\.|%2e)+$/i.test(segment)) {
    throw new Error(
      `${providerId}: a currency code in a request path must be ${CURRENCY_CODE_RULE}`,
    );
  }
  return segment;
}

function size(name: string | undefined, value: number | undefined): Parameters {
  return name === undefined || value === undefined ? [] : [[name, String(value)]];
}

/** A whole number at a pointer (a count of pages or records). */
function wholeNumber(body: unknown, at: JsonPointer): number {
  const value = readPointer(body, at);
  const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
  if (/^\d{1,9}$/.test(text)) return Number(text);
  throw new ContractViolation(
    `${pointerWhere('body', at)}: expected a whole number, received ${describe(value)}`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (isLosslessNumber(value)) return 'a number';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A copy of a JSON object with `list` at `at`, the objects on the way created as needed. */
function withArrayAt(json: unknown, at: JsonPointer, list: string[]): unknown {
  const root: Record<string, unknown> = { ...(json as Record<string, unknown>) };
  let current = root;
  at.segments.forEach((segment, index) => {
    if (index === at.segments.length - 1) {
      current[segment] = list;
      return;
    }
    const next = current[segment];
    const copy: Record<string, unknown> =
      typeof next === 'object' && next !== null && !Array.isArray(next)
        ? { ...(next as Record<string, unknown>) }
        : {};
    current[segment] = copy;
    current = copy;
  });
  return root;
}
