import { foldCurrency } from '../../currency.js';
import {
  bearerToken,
  json,
  jsonNumber,
  jsonObjectBody,
  type ProviderKindSandbox,
  randomToken,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from '../../sandbox/simulator.js';
import { createPikDemoData, type PikSandboxData, pikDemoProviders } from './demo.js';

/** One balance record of a PIK customer; amounts as exact decimal text. */
export interface PikRecordData {
  balanceNo: string;
  accountType: string;
  accountName: string;
  assetType: string;
  currencyCode: string;
  currencyName: string;
  networkCode: string | null;
  balance: string;
  availableBalance: string;
  frozenBalance: string;
  pendingBalance: string;
  status: string;
  lastChangeTime: string;
}

export interface PikCustomer {
  appId: string;
  appSecret: string;
  records: PikRecordData[];
}

export interface PikSimulatorOptions {
  customers: PikCustomer[];
  clock: SandboxClock;
  /** Access token life in seconds, as `expiresIn` says; default 7200. */
  tokenTtlSeconds?: number;
}

export interface PikSimulator extends Simulator {
  /** Every token issued so far stops working, as after a revocation upstream. */
  revokeTokens(): void;
  setTokenTtlSeconds(seconds: number): void;
  /** A login: 401 "invalid credentials"; any other call: 401 "token expired". */
  rejectAuth(request: SimRequest): SimResponse;
  /** The contract's error envelope: `{"code":<status>,"message":...,"data":null}`. */
  errorResponse(status: number): SimResponse;
}

const LOGIN_PATH = '/api/v1/auth/token';
const INVALID_CREDENTIALS = { code: 401, message: 'invalid credentials', data: null };
const TOKEN_EXPIRED = { code: 401, message: 'token expired', data: null };

/** PIK Global Account as PROVIDERS.md describes it. */
export function createPikSimulator(options: PikSimulatorOptions): PikSimulator {
  const tokens = new Map<string, { appId: string; expiresAt: number }>();
  let ttlSeconds = options.tokenTtlSeconds ?? 7200;

  function customerOf(request: SimRequest): PikCustomer | undefined {
    const token = bearerToken(request);
    const session = token === undefined ? undefined : tokens.get(token);
    if (session === undefined || options.clock.now() >= session.expiresAt) return undefined;
    return options.customers.find((customer) => customer.appId === session.appId);
  }

  function login(request: SimRequest): SimResponse {
    const body = jsonObjectBody(request);
    const customer = options.customers.find(
      (candidate) => candidate.appId === body?.appId && candidate.appSecret === body?.appSecret,
    );
    if (customer === undefined) {
      return json(401, INVALID_CREDENTIALS);
    }
    const accessToken = randomToken('pik');
    tokens.set(accessToken, {
      appId: customer.appId,
      expiresAt: options.clock.now() + ttlSeconds * 1000,
    });
    return json(200, {
      code: 200,
      message: 'success',
      data: { accessToken, tokenType: 'Bearer', expiresIn: ttlSeconds },
    });
  }

  return {
    kind: 'pik',
    loginTokenPath: ['data', 'accessToken'],
    amountFields: ['balance', 'availableBalance', 'frozenBalance', 'pendingBalance'],
    revokeTokens: () => tokens.clear(),
    setTokenTtlSeconds: (seconds) => {
      ttlSeconds = seconds;
    },
    rejectAuth: (request) =>
      json(401, request.path === LOGIN_PATH ? INVALID_CREDENTIALS : TOKEN_EXPIRED),
    errorResponse: (status) =>
      json(status, { code: status, message: statusMessage(status), data: null }),
    handle(request) {
      if (request.method === 'POST' && request.path === LOGIN_PATH) return login(request);
      if (request.method !== 'GET')
        return json(404, { code: 404, message: 'not found', data: null });
      if (request.path === '/api/v1/balance/list') {
        const customer = customerOf(request);
        if (customer === undefined) return json(401, TOKEN_EXPIRED);
        return json(200, { code: 200, message: 'success', data: customer.records.map(toWire) });
      }
      const byCurrency = request.path.match(/^\/api\/v1\/balance\/([^/]+)$/);
      if (byCurrency?.[1] !== undefined) {
        const customer = customerOf(request);
        if (customer === undefined) return json(401, TOKEN_EXPIRED);
        const code = foldCurrency(decodeURIComponent(byCurrency[1]));
        const record = customer.records.find(
          (candidate) => foldCurrency(candidate.currencyCode) === code,
        );
        if (record === undefined)
          return json(404, { code: 404, message: 'balance not found', data: null });
        return json(200, { code: 200, message: 'success', data: toWire(record) });
      }
      return json(404, { code: 404, message: 'not found', data: null });
    },
  };
}

/** A record as PIK sends it: amounts as JSON numbers with every digit. */
function toWire(record: PikRecordData): Record<string, unknown> {
  return {
    balanceNo: record.balanceNo,
    accountType: record.accountType,
    accountName: record.accountName,
    assetType: record.assetType,
    currencyCode: record.currencyCode,
    currencyName: record.currencyName,
    networkCode: record.networkCode,
    balance: jsonNumber(record.balance),
    availableBalance: jsonNumber(record.availableBalance),
    frozenBalance: jsonNumber(record.frozenBalance),
    pendingBalance: jsonNumber(record.pendingBalance),
    status: record.status,
    flagIcon: `https://flags.example/${record.currencyCode.toLowerCase()}.svg`,
    currencySymbol: record.currencyCode,
    lastChangeTime: record.lastChangeTime,
    createTimeUtc: '2025-01-01T00:00:00.000Z',
    updateTimeUtc: record.lastChangeTime,
  };
}

/** The pik kind's sandbox part: its simulator, demo data and demo providers. */
export const pikSandbox: ProviderKindSandbox<PikSandboxData, PikSimulator> = {
  createSimulator: (data, clock) => createPikSimulator({ ...data, clock }),
  demoData: createPikDemoData,
  demoProviders: pikDemoProviders,
  redactHeaders: ['authorization'],
  isLogin: (path) => path === LOGIN_PATH,
};
