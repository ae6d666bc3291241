import {
  bearerToken,
  json,
  jsonObjectBody,
  type ProviderKindSandbox,
  randomToken,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
} from '../../sandbox/simulator.js';
import { createMerchantDemoData, type MerchantSandboxData, merchantDemoProviders } from './demo.js';

/** One `ResponseData` entry of Get Account Balance; amounts as exact decimal text. */
export interface MerchantBalanceEntry {
  Balance: string;
  ReservedAmount: string;
  AvailableBalance: string;
  Currency: string;
  Name: string;
  Id: string;
}

export interface MerchantPartner {
  clientId: string;
  clientSecret: string;
  entries: MerchantBalanceEntry[];
}

export interface MerchantSimulatorOptions {
  merchants: MerchantPartner[];
  clock: SandboxClock;
  /** Session token life in seconds, as `ExpiresIn` says; default 1800. */
  sessionTtlSeconds?: number;
  /**
   * Answer 401 and 403 with HTTP 200 and the error only in `ResponseCode`, as some deployments
   * do; default false (HTTP 401 / 403).
   */
  authFailuresAsHttp200?: boolean;
}

/** A session token the simulator handed out, in the order it did. */
export interface MerchantIssuedSession {
  token: string;
  /** `login` from Get Session Token, `rotation` from an `x-refresh-token` header. */
  via: 'login' | 'rotation';
  clientId: string;
  remoteAddress: string;
  expiresAt: number;
}

/** A forced answer for every balance read, e.g. an outage. */
export interface MerchantBalanceFailure {
  responseCode: number;
  /** Default 200: the error only in the envelope. */
  httpStatus?: number;
}

export interface MerchantSimulator extends Simulator {
  /** Every session token issued so far stops working, as after a revocation upstream. */
  revokeSessions(): void;
  /** The `ExpiresIn` of sessions issued from now on, logins and rotations alike. */
  setSessionTtlSeconds(seconds: number): void;
  setAuthFailuresAsHttp200(enabled: boolean): void;
  /** Every balance read answers this until called again with undefined. */
  failBalanceReads(failure: MerchantBalanceFailure | undefined): void;
  /** Every session token issued so far, oldest first. */
  issuedSessions(): MerchantIssuedSession[];
  /**
   * Rotations from now on hand out (and accept) this token instead of a fresh one, as a
   * provider with a broken rotation would; undefined goes back to fresh tokens. Throws for a
   * value no HTTP header can carry (CR, LF, other control characters but tab).
   */
  rotateWith(token: string | undefined): void;
  /**
   * ResponseCode 401 "Unauthorized", as HTTP 401, or HTTP 200 when auth failures are answered
   * that way.
   */
  rejectAuth(request: SimRequest): SimResponse;
  /** The contract's envelope with this status as both HTTP status and ResponseCode. */
  errorResponse(status: number): SimResponse;
}

/** Session path of PROVIDERS.md (assumed) and balance path of the seed. */
const SESSION_PATH = '/v2/auth/session';
const BALANCE_PATH = '/v2/account/balance';
/** The seed: a session within 2 minutes of its expiry is rotated with `x-refresh-token`. */
const ROTATION_WINDOW_MS = 120_000;

/** The seed's ResponseMessage for each ResponseCode. */
const RESPONSE_MESSAGES: Record<number, string> = {
  200: 'Success',
  201: 'Created',
  204: 'NoContent',
  301: 'ResourceMoved',
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  410: 'Gone',
  422: 'UnprocessableContent',
  500: 'ServerError',
  503: 'ServiceUnAvailable',
};

/** The merchant partner API as PROVIDERS.md describes it: IP-bound session tokens that rotate. */
export function createMerchantSimulator(options: MerchantSimulatorOptions): MerchantSimulator {
  const { clock } = options;
  const sessions = new Map<string, MerchantIssuedSession>();
  const issued: MerchantIssuedSession[] = [];
  let ttlSeconds = options.sessionTtlSeconds ?? 1800;
  let authFailuresAsHttp200 = options.authFailuresAsHttp200 ?? false;
  let balanceFailure: MerchantBalanceFailure | undefined;
  let rotationToken: string | undefined;

  function envelope(code: number, data: unknown, httpStatus = code): SimResponse {
    return json(httpStatus, {
      ResponseCode: code,
      ResponseMessage: RESPONSE_MESSAGES[code] ?? 'Error',
      ResponseData: data,
    });
  }

  function authFailure(code: 401 | 403): SimResponse {
    return envelope(code, null, authFailuresAsHttp200 ? 200 : code);
  }

  function issue(
    via: MerchantIssuedSession['via'],
    clientId: string,
    remoteAddress: string,
    token: string = randomToken('merchant'),
  ): MerchantIssuedSession {
    const session = {
      token,
      via,
      clientId,
      remoteAddress,
      expiresAt: clock.now() + ttlSeconds * 1000,
    };
    sessions.set(session.token, session);
    issued.push(session);
    return session;
  }

  function getSessionToken(request: SimRequest): SimResponse {
    const body = jsonObjectBody(request);
    if (typeof body?.ClientId !== 'string' || typeof body.ClientSecret !== 'string') {
      return envelope(400, null);
    }
    const merchant = options.merchants.find(
      (candidate) =>
        candidate.clientId === body.ClientId && candidate.clientSecret === body.ClientSecret,
    );
    if (merchant === undefined) return authFailure(401);
    const session = issue('login', merchant.clientId, addressOf(request));
    return envelope(200, { SessionToken: session.token, ExpiresIn: ttlSeconds });
  }

  function getAccountBalance(request: SimRequest): SimResponse {
    if (balanceFailure !== undefined) {
      return envelope(balanceFailure.responseCode, null, balanceFailure.httpStatus ?? 200);
    }
    const token = bearerToken(request);
    const session = token === undefined ? undefined : sessions.get(token);
    const now = clock.now();
    if (session === undefined || now >= session.expiresAt) return authFailure(401);
    // The seed: secured calls must come from the address that obtained the session.
    if (addressOf(request) !== session.remoteAddress) return authFailure(403);
    const merchant = options.merchants.find((candidate) => candidate.clientId === session.clientId);
    if (merchant === undefined) return authFailure(401);
    // The old token keeps working until its own expiry; the new one gets a full life.
    const headers =
      session.expiresAt - now <= ROTATION_WINDOW_MS
        ? {
            'x-refresh-token': issue(
              'rotation',
              session.clientId,
              session.remoteAddress,
              rotationToken,
            ).token,
          }
        : undefined;
    return json(
      200,
      {
        ResponseCode: 200,
        ResponseMessage: 'Success',
        // Amounts are JSON strings, written exactly as stored.
        ResponseData: merchant.entries.map((entry) => ({
          Balance: entry.Balance,
          ReservedAmount: entry.ReservedAmount,
          AvailableBalance: entry.AvailableBalance,
          Currency: entry.Currency,
          Name: entry.Name,
          Id: entry.Id,
        })),
      },
      headers,
    );
  }

  return {
    kind: 'merchant',
    loginTokenPath: ['ResponseData', 'SessionToken'],
    amountFields: ['Balance', 'ReservedAmount', 'AvailableBalance'],
    revokeSessions: () => sessions.clear(),
    setSessionTtlSeconds: (seconds) => {
      ttlSeconds = seconds;
    },
    setAuthFailuresAsHttp200: (enabled) => {
      authFailuresAsHttp200 = enabled;
    },
    failBalanceReads: (failure) => {
      balanceFailure = failure;
    },
    issuedSessions: () => issued.map((session) => ({ ...session })),
    rotateWith(token) {
      // Node's HTTP server throws on these while answering; refuse them here instead.
      if (token !== undefined && /[^\t\x20-\x7e\x80-\xff]/.test(token)) {
        throw new Error(
          'rotateWith: expected a value an HTTP header can carry (no CR, LF or other control character but tab)',
        );
      }
      rotationToken = token;
    },
    rejectAuth: () => authFailure(401),
    errorResponse: (status) => envelope(status, null),
    handle(request) {
      if (request.method === 'POST' && request.path === SESSION_PATH) {
        return getSessionToken(request);
      }
      if (request.method === 'GET' && request.path === BALANCE_PATH) {
        return getAccountBalance(request);
      }
      return envelope(404, null);
    },
  };
}

/** An IPv4 caller seen through a dual-stack socket is the same caller. */
function addressOf(request: SimRequest): string {
  return request.remoteAddress.replace(/^::ffff:/, '');
}

/** The merchant kind's sandbox part: its simulator, demo data and demo providers. */
export const merchantSandbox: ProviderKindSandbox<MerchantSandboxData, MerchantSimulator> = {
  createSimulator: (data, clock) => createMerchantSimulator({ ...data, clock }),
  demoData: createMerchantDemoData,
  demoProviders: merchantDemoProviders,
  redactHeaders: ['authorization', 'x-refresh-token'],
  isLogin: (path) => path === SESSION_PATH,
};
