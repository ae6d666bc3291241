import { jwtVerify, SignJWT } from 'jose';
import {
  bearerToken,
  json,
  jsonNumber,
  jsonObjectBody,
  type ProviderKindSandbox,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from '../../sandbox/simulator.js';
import {
  type AssetAccountsSandboxData,
  assetAccountsDemoProviders,
  createAssetAccountsDemoData,
} from './demo.js';
import { isValidOtp, parseOtpSecret } from './totp.js';

/** One asset account of a customer; amounts as exact decimal text. */
export interface AssetAccountDetailData {
  id: number;
  asset: string;
  totalBalance: string;
  availableBalance: string;
  pendingBalance: string;
  /** The account's use is disabled; default false. */
  bSuppressed?: boolean;
}

export interface AssetAccountsCustomer {
  username: string;
  password: string;
  /** The base32 TOTP seed the customer's codes are made from. */
  otpSecret: string;
  details: AssetAccountDetailData[];
}

export interface AssetAccountsSimulatorOptions {
  customers: AssetAccountsCustomer[];
  clock: SandboxClock;
  /** Token life in seconds, written as the JWT's `exp`; default 3600. */
  tokenTtlSeconds?: number;
  /**
   * Issue JWTs without an `exp` claim (they still stop working after the token life), as a
   * deployment that keeps token lives to itself would; default false.
   */
  tokensWithoutExp?: boolean;
}

export interface AssetAccountsSimulator extends Simulator {
  /** Every token issued so far stops working, as after a revocation upstream. */
  revokeTokens(): void;
  /** The life of tokens issued from now on. */
  setTokenTtlSeconds(seconds: number): void;
  /** Whether tokens issued from now on carry an `exp` claim. */
  setTokensWithoutExp(withoutExp: boolean): void;
  /** A login: 401 "invalid credentials"; any other call: 401 "token expired or invalid". */
  rejectAuth(request: SimRequest): SimResponse;
  /** The contract's error body: `{"message":...}`. */
  errorResponse(status: number): SimResponse;
}

const LOGIN_PATH = '/api/v1/public/auth/login';
const BALANCES_PATH = '/api/v1/customer/accounts/balances';
const POSITIVE_INTEGER = /^[1-9]\d*$/;

/** The customer asset accounts API as PROVIDERS.md describes it: JWT login, TOTP per request. */
export function createAssetAccountsSimulator(
  options: AssetAccountsSimulatorOptions,
): AssetAccountsSimulator {
  const { clock } = options;
  // A fresh signing key per simulator: its tokens mean nothing anywhere else.
  const signingKey = crypto.getRandomValues(new Uint8Array(32));
  const sessions = new Map<string, { username: string; expiresAt: number }>();
  let ttlSeconds = options.tokenTtlSeconds ?? 3600;
  let withoutExp = options.tokensWithoutExp ?? false;

  function customerNamed(username: unknown): AssetAccountsCustomer | undefined {
    return options.customers.find((customer) => customer.username === username);
  }

  function otpAccepted(customer: AssetAccountsCustomer, otp: unknown): boolean {
    const secret = parseOtpSecret(customer.otpSecret);
    return secret !== undefined && typeof otp === 'string' && isValidOtp(secret, otp, clock.now());
  }

  async function login(request: SimRequest): Promise<SimResponse> {
    const body = jsonObjectBody(request);
    if (body === undefined) return json(400, { message: 'expected a JSON object body' });
    const customer = customerNamed(body.username);
    if (
      customer === undefined ||
      body.password !== customer.password ||
      !otpAccepted(customer, body.otp)
    ) {
      return json(401, { message: 'invalid credentials' });
    }
    const now = clock.now();
    const nowSeconds = Math.floor(now / 1000);
    const jwt = new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(customer.username)
      .setIssuedAt(nowSeconds)
      .setJti(crypto.randomUUID());
    if (!withoutExp) jwt.setExpirationTime(nowSeconds + ttlSeconds);
    const token = await jwt.sign(signingKey);
    sessions.set(token, {
      username: customer.username,
      expiresAt: withoutExp ? now + ttlSeconds * 1000 : (nowSeconds + ttlSeconds) * 1000,
    });
    return json(200, { token });
  }

  /** The customer of a live session whose request also carries a valid `otp`. */
  async function authenticate(request: SimRequest): Promise<AssetAccountsCustomer | SimResponse> {
    const token = bearerToken(request);
    const session = token === undefined ? undefined : sessions.get(token);
    if (token === undefined || session === undefined || clock.now() >= session.expiresAt) {
      return json(401, { message: 'token expired or invalid' });
    }
    try {
      await jwtVerify(token, signingKey, {
        algorithms: ['HS256'],
        currentDate: new Date(clock.now()),
      });
    } catch {
      return json(401, { message: 'token expired or invalid' });
    }
    const customer = customerNamed(session.username);
    if (customer === undefined) return json(401, { message: 'token expired or invalid' });
    if (!otpAccepted(customer, request.headers.otp)) {
      return json(401, { message: 'missing, stale or wrong otp' });
    }
    return customer;
  }

  async function balances(request: SimRequest): Promise<SimResponse> {
    const customer = await authenticate(request);
    if ('status' in customer) return customer;
    const page = pageOf(request.query);
    if (typeof page === 'string') return json(400, { message: page });
    const details =
      page === undefined
        ? customer.details
        : customer.details.slice((page.number - 1) * page.size, page.number * page.size);
    return json(200, { id: jsonNumber(0), details: details.map(toWire) });
  }

  return {
    kind: 'asset-accounts',
    loginTokenPath: ['token'],
    amountFields: ['totalBalance', 'availableBalance', 'pendingBalance'],
    revokeTokens: () => sessions.clear(),
    setTokenTtlSeconds: (seconds) => {
      ttlSeconds = seconds;
    },
    setTokensWithoutExp: (value) => {
      withoutExp = value;
    },
    rejectAuth: (request) =>
      json(401, {
        message: request.path === LOGIN_PATH ? 'invalid credentials' : 'token expired or invalid',
      }),
    errorResponse: (status) => json(status, { message: statusMessage(status) }),
    handle(request) {
      if (request.method === 'POST' && request.path === LOGIN_PATH) return login(request);
      if (request.method === 'GET' && request.path === BALANCES_PATH) return balances(request);
      return json(404, { message: 'not found' });
    },
  };
}

/**
 * The page asked for, undefined for the whole list, or what is wrong with the query:
 * `pageNumber` and `pageSize` are positive integers, given together or not at all.
 */
function pageOf(query: URLSearchParams): { number: number; size: number } | undefined | string {
  const numbers = query.getAll('pageNumber');
  const sizes = query.getAll('pageSize');
  if (numbers.length === 0 && sizes.length === 0) return undefined;
  if (numbers.length !== 1 || sizes.length !== 1) {
    return 'pageNumber and pageSize must be given together, once each';
  }
  const [number = '', size = ''] = [numbers[0], sizes[0]];
  if (!POSITIVE_INTEGER.test(number)) return 'pageNumber must be a positive integer';
  if (!POSITIVE_INTEGER.test(size)) return 'pageSize must be a positive integer';
  return { number: Number(number), size: Number(size) };
}

/** A detail as the provider sends it: amounts as JSON numbers with every digit. */
function toWire(detail: AssetAccountDetailData): Record<string, unknown> {
  return {
    id: jsonNumber(detail.id),
    asset: detail.asset,
    totalBalance: jsonNumber(detail.totalBalance),
    availableBalance: jsonNumber(detail.availableBalance),
    pendingBalance: jsonNumber(detail.pendingBalance),
    bSuppressed: detail.bSuppressed ?? false,
  };
}

/** The asset-accounts kind's sandbox part: its simulator, demo data and demo providers. */
export const assetAccountsSandbox: ProviderKindSandbox<
  AssetAccountsSandboxData,
  AssetAccountsSimulator
> = {
  createSimulator: (data, clock) => createAssetAccountsSimulator({ ...data, clock }),
  demoData: createAssetAccountsDemoData,
  demoProviders: assetAccountsDemoProviders,
  redactHeaders: ['authorization', 'otp'],
  isLogin: (path) => path === LOGIN_PATH,
};
