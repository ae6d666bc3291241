import { createHmac, randomBytes } from 'node:crypto';
import { foldCurrency, foldedCurrencyMatcher } from '../../currency.js';
import {
  bearerToken,
  json,
  jsonObjectBody,
  type ProviderKindSandbox,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from '../../sandbox/simulator.js';
import { createWalletDemoData, type WalletSandboxData, walletDemoProviders } from './demo.js';

/** One asset of a wallet; amounts as exact decimal text, sent as JSON strings. */
export interface WalletAssetData {
  asset: string;
  balance: string;
  holdBalance: string;
  lockBalance: string;
  referralBalance: string;
  /** Network -> address and memo; omitted from the answer when undefined. */
  depositAddress?: Record<string, { address: string; memo: string | null }>;
}

/**
 * One wallet and the credentials that own it: an API key, a login (email and password), or both.
 * Several wallets may share a login or a key.
 */
export interface WalletAccountData {
  walletId: string;
  apiKey?: string;
  email?: string;
  password?: string;
  assets: WalletAssetData[];
}

export interface WalletSimulatorOptions {
  /** The wallets the simulator holds, with the credentials that own each; no default. */
  wallets: WalletAccountData[];
  /** Token expiry is checked against this clock; the sandbox's shared clock. */
  clock: SandboxClock;
  /** Access token life in seconds, as `expiresIn` says; default 900. */
  tokenTtlSeconds?: number;
  /** The header that carries the API key; default "X-Api-Key" (any case). */
  apiKeyHeader?: string;
}

export interface WalletSimulator extends Simulator {
  /** Every token issued so far stops working, as after a revocation upstream. */
  revokeTokens(): void;
  /** The `expiresIn` of tokens issued from now on. */
  setTokenTtlSeconds(seconds: number): void;
  /** The next `count` calls, logins included, answer 429 with `Retry-After: <seconds>`. */
  rateLimitNext(count: number, retryAfterSeconds: number): void;
  /**
   * The `assets` of every authenticated, well-formed balance call so far, in order, exactly as
   * sent: null where the body had no `assets` field.
   */
  assetRequests(): (string[] | null)[];
  /** 401 `{"message":"Unauthorized"}`, logins and balance calls alike. */
  rejectAuth(request: SimRequest): SimResponse;
  /** The contract's error body: `{"message":...}`. */
  errorResponse(status: number): SimResponse;
}

const LOGIN_PATH = '/v2/auth/login';
const BALANCES_PATH = '/v2/balance';
const UNAUTHORIZED = { message: 'Unauthorized' };
const WALLET_NOT_FOUND = { message: 'wallet not found' };

/** Who a call authenticated as: an API key, or a login session. */
type Principal = { apiKey: string } | { email: string; password: string };

/** The crypto wallet API of PROVIDERS.md: API key or JWT login, many assets per balance call. */
export function createWalletSimulator(options: WalletSimulatorOptions): WalletSimulator {
  const { clock } = options;
  const apiKeyHeader = (options.apiKeyHeader ?? 'X-Api-Key').toLowerCase();
  const sessions = new Map<string, { email: string; password: string; expiresAt: number }>();
  const signingKey = randomBytes(32);
  const requestedAssets: (string[] | null)[] = [];
  let ttlSeconds = options.tokenTtlSeconds ?? 900;
  let rateLimited = { remaining: 0, retryAfterSeconds: 0 };

  function issueToken(email: string): string {
    const issuedAt = Math.floor(clock.now() / 1000);
    const header = base64url({ alg: 'HS256', typ: 'JWT' });
    // A random jti: a token issued after a revocation never equals a revoked one.
    const payload = base64url({
      sub: email,
      iat: issuedAt,
      exp: issuedAt + ttlSeconds,
      jti: randomBytes(12).toString('hex'),
    });
    const signature = createHmac('sha256', signingKey)
      .update(`${header}.${payload}`)
      .digest('base64url');
    return `${header}.${payload}.${signature}`;
  }

  function login(request: SimRequest): SimResponse {
    const body = jsonObjectBody(request);
    if (body === undefined) return json(400, { message: 'expected a JSON object body' });
    const { email, password } = body;
    if (typeof email !== 'string' || typeof password !== 'string') {
      return json(400, { message: 'email and password must be strings' });
    }
    const known = options.wallets.some(
      (wallet) => wallet.email === email && wallet.password === password,
    );
    if (!known) return json(401, UNAUTHORIZED);
    const accessToken = issueToken(email);
    sessions.set(accessToken, { email, password, expiresAt: clock.now() + ttlSeconds * 1000 });
    return json(200, { data: { accessToken, expiresIn: ttlSeconds } });
  }

  /** The caller's principal: an API key header wins over a bearer token; undefined is a 401. */
  function principalOf(request: SimRequest): Principal | undefined {
    const header = request.headers[apiKeyHeader];
    if (header !== undefined) {
      const apiKey = Array.isArray(header) ? header[0] : header;
      const known = options.wallets.some(
        (wallet) => wallet.apiKey !== undefined && wallet.apiKey === apiKey,
      );
      return known && apiKey !== undefined ? { apiKey } : undefined;
    }
    const token = bearerToken(request);
    const session = token === undefined ? undefined : sessions.get(token);
    if (session === undefined || clock.now() >= session.expiresAt) return undefined;
    return { email: session.email, password: session.password };
  }

  function owns(principal: Principal, wallet: WalletAccountData): boolean {
    if ('apiKey' in principal) return wallet.apiKey === principal.apiKey;
    return wallet.email === principal.email && wallet.password === principal.password;
  }

  function balances(request: SimRequest): SimResponse {
    const principal = principalOf(request);
    if (principal === undefined) return json(401, UNAUTHORIZED);
    const body = jsonObjectBody(request);
    if (body === undefined) return json(400, { message: 'expected a JSON object body' });
    const { walletId, assets } = body;
    if (typeof walletId !== 'string') return json(400, { message: 'walletId must be a string' });
    if (
      assets !== undefined &&
      !(Array.isArray(assets) && assets.every((asset) => typeof asset === 'string'))
    ) {
      return json(400, { message: 'assets must be an array of strings' });
    }
    requestedAssets.push(assets === undefined ? null : [...assets]);
    // A wallet of someone else is as unknown as one that does not exist.
    const wallet = options.wallets.find(
      (candidate) => candidate.walletId === walletId && owns(principal, candidate),
    );
    if (wallet === undefined) return json(404, WALLET_NOT_FOUND);
    // Absent or empty means every asset; codes match without regard to case.
    const wanted = foldedCurrencyMatcher(assets?.length === 0 ? undefined : assets);
    const selected = wallet.assets.filter((asset) => wanted(foldCurrency(asset.asset)));
    return json(200, { data: selected.map(toWire) });
  }

  return {
    kind: 'wallet',
    loginTokenPath: ['data', 'accessToken'],
    amountFields: ['balance', 'holdBalance', 'lockBalance', 'referralBalance'],
    revokeTokens: () => sessions.clear(),
    setTokenTtlSeconds: (seconds) => {
      ttlSeconds = seconds;
    },
    rateLimitNext: (count, retryAfterSeconds) => {
      rateLimited = { remaining: count, retryAfterSeconds };
    },
    rejectAuth: () => json(401, UNAUTHORIZED),
    errorResponse: (status) => json(status, { message: statusMessage(status) }),
    assetRequests: () => requestedAssets.map((assets) => (assets === null ? null : [...assets])),
    handle(request) {
      if (rateLimited.remaining > 0) {
        rateLimited.remaining -= 1;
        return json(
          429,
          { message: 'Too Many Requests' },
          { 'retry-after': String(rateLimited.retryAfterSeconds) },
        );
      }
      if (request.method === 'POST' && request.path === LOGIN_PATH) return login(request);
      if (request.method === 'POST' && request.path === BALANCES_PATH) return balances(request);
      return json(404, { message: 'not found' });
    },
  };
}

/** An asset as the wallet sends it: every amount a JSON string with its exact text. */
function toWire(asset: WalletAssetData): Record<string, unknown> {
  return {
    balance: asset.balance,
    asset: asset.asset,
    holdBalance: asset.holdBalance,
    lockBalance: asset.lockBalance,
    referralBalance: asset.referralBalance,
    ...(asset.depositAddress === undefined
      ? {}
      : {
          depositAddress: Object.fromEntries(
            Object.entries(asset.depositAddress).map(([network, { address, memo }]) => [
              network,
              { address, memo },
            ]),
          ),
        }),
  };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The wallet kind's sandbox part: its simulator, demo data and demo providers. */
export const walletSandbox: ProviderKindSandbox<WalletSandboxData, WalletSimulator> = {
  createSimulator: (data, clock) => createWalletSimulator({ ...data, clock }),
  demoData: createWalletDemoData,
  demoProviders: walletDemoProviders,
  redactHeaders: ['authorization', 'x-api-key'],
  isLogin: (path) => path === LOGIN_PATH,
};
