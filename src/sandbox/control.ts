import type { IncomingHttpHeaders } from 'node:http';
import { Amount } from '../money.js';
import type { ProviderKind } from '../providers/kinds.js';
import type { PikRecordData } from '../providers/pik/sandbox.js';
import type { CallLog, RecordedCall } from './call-log.js';
import {
  parseSandboxFault,
  type SandboxFault,
  SandboxFaultError,
  type SandboxFaultRegistry,
  validateSandboxFault,
} from './faults.js';
import { SANDBOX_REDACTED_HEADERS } from './kinds.js';
import { json, type SimResponse } from './simulator.js';

/** A recorded call as the control endpoint shows it: credentials redacted, no body. */
export type RedactedCall = Omit<RecordedCall, 'body'>;

/** Where the control endpoint is mounted: no kind is named like this. */
export const SANDBOX_CONTROL_PATH = '/_sandbox';

const CONTROL_ROUTES = [
  `GET ${SANDBOX_CONTROL_PATH}/faults`,
  `DELETE ${SANDBOX_CONTROL_PATH}/faults`,
  `GET ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `PUT ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `DELETE ${SANDBOX_CONTROL_PATH}/faults/<kind>`,
  `GET ${SANDBOX_CONTROL_PATH}/calls[?kind=<kind>]`,
  `DELETE ${SANDBOX_CONTROL_PATH}/calls[?kind=<kind>]`,
  `GET ${SANDBOX_CONTROL_PATH}/stats`,
  `DELETE ${SANDBOX_CONTROL_PATH}/stats`,
  `GET ${SANDBOX_CONTROL_PATH}/balances/pik`,
  `PUT ${SANDBOX_CONTROL_PATH}/balances/pik/<account>`,
  `DELETE ${SANDBOX_CONTROL_PATH}/balances/pik/<account>`,
];

/** Whether a request path is the control endpoint's. */
export function isControlPath(pathname: string): boolean {
  return pathname === SANDBOX_CONTROL_PATH || pathname.startsWith(`${SANDBOX_CONTROL_PATH}/`);
}

/** What the control endpoint steers: the mounted kinds' faults and the server's call log. */
export interface SandboxControlOptions {
  /** The kinds mounted, in the order the endpoint lists them. */
  kinds: readonly ProviderKind[];
  faults: SandboxFaultRegistry;
  calls: CallLog;
  /** Changes the simulators' balances (`/_sandbox/balances`); absent: those routes answer 404. */
  balances?: SandboxBalanceEditor | undefined;
}

/** A balance as the control endpoint shows it. */
export interface SandboxBalance {
  account: string;
  currency: string;
  total: string;
  available: string;
}

/**
 * Changes a simulator's balances while it runs, so that a reader sees them change (a live
 * subscription gets CHANGED, ADDED and REMOVED events). PIK's simulator reads its records on
 * every call, so its data is changed in place.
 */
export interface SandboxBalanceEditor {
  list(): SandboxBalance[];
  /**
   * Sets the total and available amounts of an account (PIK's balanceNo), or adds the account
   * with `currency` when there is none. Returns the balance as it is now.
   */
  set(
    account: string,
    change: { total: string; available?: string; currency?: string },
  ): { balance: SandboxBalance; added: boolean };
  /** Removes an account; false when there was none. */
  remove(account: string): boolean;
}

/** The balance editor of the PIK simulator's data (its first customer holds new accounts). */
export function createSandboxBalanceEditor(pik: {
  customers: { records: PikRecordData[] }[];
}): SandboxBalanceEditor {
  const all = () => pik.customers.flatMap((customer) => customer.records);
  const view = (record: PikRecordData): SandboxBalance => ({
    account: record.balanceNo,
    currency: record.currencyCode,
    total: record.balance,
    available: record.availableBalance,
  });
  return {
    list: () => all().map(view),
    set(account, change) {
      const existing = all().find((record) => record.balanceNo === account);
      if (existing !== undefined) {
        existing.balance = change.total;
        existing.availableBalance = change.available ?? change.total;
        existing.lastChangeTime = new Date().toISOString();
        return { balance: view(existing), added: false };
      }
      const owner = pik.customers[0];
      if (owner === undefined) throw new SandboxFaultError('the PIK simulator has no customer');
      if (change.currency === undefined) {
        throw new SandboxFaultError(
          `no PIK account "${account}": to add it, give its "currency" too, e.g. {"currency":"GBP","total":"10.00"}`,
        );
      }
      const record: PikRecordData = {
        balanceNo: account,
        accountType: 'GLOBAL_ACCOUNT',
        accountName: account,
        assetType: 'FIAT',
        currencyCode: change.currency,
        currencyName: change.currency,
        networkCode: null,
        balance: change.total,
        availableBalance: change.available ?? change.total,
        frozenBalance: '0',
        pendingBalance: '0',
        status: 'ACTIVE',
        lastChangeTime: new Date().toISOString(),
      };
      owner.records.push(record);
      return { balance: view(record), added: true };
    },
    remove(account) {
      for (const customer of pik.customers) {
        const index = customer.records.findIndex((record) => record.balanceNo === account);
        if (index >= 0) {
          customer.records.splice(index, 1);
          return true;
        }
      }
      return false;
    },
  };
}

/** The control endpoint's answer to one request; bad input is a 400 that says what was expected. */
export type SandboxControl = (method: string, url: URL, body: string) => SimResponse;

export function createSandboxControl(options: SandboxControlOptions): SandboxControl {
  const { kinds, faults, calls, balances } = options;
  const kindOf = (encoded: string): ProviderKind => {
    let kind: string;
    try {
      kind = decodeURIComponent(encoded);
    } catch {
      throw new SandboxFaultError(`"${encoded}" is not a valid URL path segment`);
    }
    if (!kinds.includes(kind as ProviderKind)) {
      throw new SandboxFaultError(
        `no simulator of kind "${kind}" on this sandbox; expected one of ${kinds.join(', ')}`,
      );
    }
    return kind as ProviderKind;
  };

  return (method, url, body) => {
    const route = url.pathname.slice(SANDBOX_CONTROL_PATH.length).replace(/\/$/, '');
    try {
      if (route === '') {
        return allow(method, ['GET'], () => json(200, { kinds, routes: CONTROL_ROUTES }));
      }
      if (route === '/faults') {
        return allow(method, ['GET', 'DELETE'], () => {
          if (method === 'DELETE') faults.clear();
          return json(200, { faults: faults.list() });
        });
      }
      const one = route.match(/^\/faults\/([^/]+)$/);
      if (one?.[1] !== undefined) {
        const encoded = one[1];
        return allow(method, ['GET', 'PUT', 'DELETE'], () => {
          const kind = kindOf(encoded);
          if (method === 'PUT') faults.set(kind, faultOfBody(body));
          if (method === 'DELETE') faults.set(kind, undefined);
          return json(200, { kind, fault: faults.list()[kind] ?? null });
        });
      }
      if (route === '/calls') {
        return allow(method, ['GET', 'DELETE'], () => {
          const wanted = url.searchParams.getAll('kind').map(kindOf);
          const selected = (call: RecordedCall) =>
            wanted.length === 0 || wanted.includes(call.kind);
          if (method === 'DELETE') return json(200, { removed: calls.removeCalls(selected) });
          return json(200, { calls: calls.calls().filter(selected).map(redact) });
        });
      }
      if (route === '/stats') {
        return allow(method, ['GET', 'DELETE'], () => {
          if (method === 'DELETE') calls.clearStats();
          return json(200, { stats: calls.stats() });
        });
      }
      if (balances !== undefined && route === '/balances/pik') {
        return allow(method, ['GET'], () => json(200, { balances: balances.list() }));
      }
      const balance = route.match(/^\/balances\/pik\/([^/]+)$/);
      if (balances !== undefined && balance?.[1] !== undefined) {
        const account = accountOf(balance[1]);
        return allow(method, ['PUT', 'DELETE'], () => {
          if (method === 'DELETE') {
            if (balances.remove(account)) return json(200, { removed: account });
            return json(404, { message: `no PIK account "${account}"` });
          }
          const { balance: now, added } = balances.set(account, balanceChangeOfBody(body));
          return json(added ? 201 : 200, { balance: now });
        });
      }
      return json(404, {
        message: `no sandbox control route ${method} ${url.pathname}; see GET ${SANDBOX_CONTROL_PATH}`,
      });
    } catch (error) {
      if (error instanceof SandboxFaultError) return json(400, { message: error.message });
      return json(500, { message: 'sandbox control failure' });
    }
  };
}

/** Runs `answer` for an allowed method; otherwise a 405 that lists the allowed ones. */
function allow(method: string, allowed: string[], answer: () => SimResponse): SimResponse {
  if (allowed.includes(method)) return answer();
  return json(
    405,
    { message: `method ${method} not allowed here; expected ${allowed.join(' or ')}` },
    { allow: allowed.join(', ') },
  );
}

/** An account id from a path segment: PIK's balanceNo, letters, digits, "-" and "_". */
function accountOf(encoded: string): string {
  let account: string;
  try {
    account = decodeURIComponent(encoded);
  } catch {
    throw new SandboxFaultError(`"${encoded}" is not a valid URL path segment`);
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(account)) {
    throw new SandboxFaultError(
      'expected an account id of 1 to 64 letters, digits, "-" or "_", such as "PIK-USD-001"',
    );
  }
  return account;
}

/** An amount as the control endpoint takes it: a string in plain decimal notation. */
function amountField(value: unknown, field: string): string {
  if (typeof value === 'string' && Amount.readPlainString(value) instanceof Amount) return value;
  throw new SandboxFaultError(
    `${field}: expected an amount as a string in plain decimal notation such as "1500.25"`,
  );
}

/** A balance change from a PUT body: `{"total":"1600.25","available":"1300.25","currency":"USD"}`. */
function balanceChangeOfBody(body: string): {
  total: string;
  available?: string;
  currency?: string;
} {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SandboxFaultError(
      'expected a JSON body such as {"total":"1600.25","available":"1300.25"} (available defaults to total; currency is needed to add an account)',
    );
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).filter(
    (key) => !['total', 'available', 'currency'].includes(key),
  );
  if (unknown.length > 0) {
    throw new SandboxFaultError(
      `unknown field(s) ${unknown.map((key) => JSON.stringify(key.slice(0, 32))).join(', ')}; expected total, available, currency`,
    );
  }
  const change: { total: string; available?: string; currency?: string } = {
    total: amountField(fields.total, 'total'),
  };
  if (fields.available !== undefined) change.available = amountField(fields.available, 'available');
  if (fields.currency !== undefined) {
    if (typeof fields.currency !== 'string' || !/^[A-Za-z0-9_-]{1,20}$/.test(fields.currency)) {
      throw new SandboxFaultError(
        'currency: expected a currency code of 1 to 20 ASCII letters, digits, "_" or "-"',
      );
    }
    change.currency = fields.currency.toUpperCase();
  }
  return change;
}

/** A fault from a PUT body: a JSON fault object, or a JSON string in the compact form. */
function faultOfBody(body: string): SandboxFault {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new SandboxFaultError(
      'expected a JSON body: a fault object such as {"type":"status","status":503}, or a compact fault such as "503x2"',
    );
  }
  return typeof value === 'string' ? parseSandboxFault(value) : validateSandboxFault(value);
}

function redact(call: RecordedCall): RedactedCall {
  const { body: _body, headers, ...rest } = call;
  const redacted: IncomingHttpHeaders = { ...headers };
  // Every kind's credential headers, whichever kind the call went to.
  for (const name of SANDBOX_REDACTED_HEADERS) {
    if (redacted[name] !== undefined) redacted[name] = '[redacted]';
  }
  return { ...rest, headers: redacted };
}
