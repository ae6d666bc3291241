import {
  json,
  type ProviderKindSandbox,
  randomToken,
  type SandboxClock,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from '../../sandbox/simulator.js';
import { createLedgerlyDemoData, type LedgerlySandboxData, ledgerlyDemoProviders } from './demo.js';

/**
 * Ledgerly, the rest kind's simulator: a treasury ledger API unlike the five built-in kinds
 * (docs/sandbox-rest.md). OAuth2 client credentials (RFC 6749 §4.4), accounts that each hold
 * per-currency positions, amounts as minor-unit integer strings with a per-position exponent,
 * cursor pagination, and errors inside HTTP 200.
 */

/** One per-currency position of an account; amounts are integer strings in minor units. */
export interface LedgerlyPositionData {
  currency: string;
  /** The chain of a crypto asset; null for fiat. */
  network: string | null;
  /** Digits after the point: an amount is its integer times 10^-exponent (0 to 18). */
  exponent: number;
  /** The booked balance; may be negative (a drawn credit line). */
  ledger: string;
  available: string;
  reserved: string;
  pending: string;
  /** ISO 8601, as sent. */
  asOf: string;
  /** Omitted from the answer when undefined. */
  depositAddress?: { address: string; memo: string | null };
}

export interface LedgerlyAccountData {
  id: string;
  name: string;
  type: string;
  /** `open`, `frozen` or `closed`. */
  state: string;
  positions: LedgerlyPositionData[];
}

/** An OAuth2 client and the accounts it may read. */
export interface LedgerlyClient {
  clientId: string;
  clientSecret: string;
  /** The scopes the client may be granted; a token without `balances:read` reads nothing. */
  scopes: string[];
  accounts: LedgerlyAccountData[];
}

export interface LedgerlySimulatorOptions {
  clients: LedgerlyClient[];
  clock: SandboxClock;
  /** Access token life in seconds, as `expires_in` says; default 3600. */
  tokenTtlSeconds?: number;
  /** Accounts per page when the request gives no `limit`; default 2. */
  defaultPageSize?: number;
  /** How long a cursor may be used after it was handed out, in seconds; default 300. */
  cursorTtlSeconds?: number;
  /** Reads allowed per client and window before RATE_LIMITED; default none (no limit). */
  rateLimit?: LedgerlyRateLimit;
}

/** A fixed-window rate limit per client, on the sandbox's clock. */
export interface LedgerlyRateLimit {
  /** Reads per window. */
  limit: number;
  windowSeconds: number;
}

/** The error codes Ledgerly's API answers inside its envelope. */
export const LEDGERLY_ERROR_CODES = [
  'TOKEN_EXPIRED',
  'TOKEN_INVALID',
  'INSUFFICIENT_SCOPE',
  'RATE_LIMITED',
  'INVALID_CURSOR',
  'INVALID_PARAMETER',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'INVALID_REQUEST',
  'FORBIDDEN',
  'INTERNAL',
  'BAD_GATEWAY',
  'UNAVAILABLE',
  'GATEWAY_TIMEOUT',
  'ERROR',
] as const;
export type LedgerlyErrorCode = (typeof LEDGERLY_ERROR_CODES)[number];

/** An error the next reads answer instead of their data, inside HTTP 200 unless `httpStatus`. */
export interface LedgerlyInjectedError {
  code: LedgerlyErrorCode;
  /** How many reads get it; default 1. */
  times?: number;
  /** How many reads are answered as usual before it, e.g. 1 for a listing's second page; default 0. */
  after?: number;
  /** For RATE_LIMITED: the `retry_after` seconds; default 1. */
  retryAfterSeconds?: number;
  /** Default 200: the error only in the envelope. */
  httpStatus?: number;
}

/** An access token the simulator handed out, in the order it did. */
export interface LedgerlyIssuedToken {
  token: string;
  clientId: string;
  /** The granted scopes, space-separated, as the answer's `scope` says. */
  scope: string;
  /** How the client authenticated: HTTP Basic or `client_id`/`client_secret` in the form body. */
  clientAuth: 'basic' | 'body';
  expiresAt: number;
}

/** One answer of the simulator, for the tests: what the envelope (or the token endpoint) said. */
export interface LedgerlyAnswer {
  method: string;
  path: string;
  status: number;
  /** `OK`, an envelope error code, or a token endpoint `error` (e.g. `invalid_client`). */
  code: string;
  /** Whether `failNext` (not the request itself) caused it. */
  injected: boolean;
  at: number;
}

export interface LedgerlySimulator extends Simulator {
  /** Every token issued so far is expired from now: the next read answers TOKEN_EXPIRED. */
  expireTokens(): void;
  /** Every token issued so far is forgotten: the next read answers TOKEN_INVALID. */
  revokeTokens(): void;
  /** The `expires_in` of tokens issued from now on. */
  setTokenTtlSeconds(seconds: number): void;
  /** Every cursor handed out so far is forgotten, as when a listing's snapshot is dropped. */
  invalidateCursors(): void;
  /** A per-client rate limit from now on (a fresh window); undefined removes it. */
  setRateLimit(limit: LedgerlyRateLimit | undefined): void;
  /** The next reads (never logins) answer this error; see LedgerlyInjectedError. */
  failNext(error: LedgerlyInjectedError): void;
  /**
   * Every read from now on answers after `ms` of real time, as a slow upstream does; undefined
   * answers at once again.
   */
  delayReads(ms: number | undefined): void;
  /**
   * A broken listing from now on: a page read with a cursor hands that same cursor back as its
   * `next_cursor`, so the listing never ends; false mends it.
   */
  loopCursors(enabled: boolean): void;
  /** Every token handed out so far (the last 10 000), oldest first. */
  issuedTokens(): LedgerlyIssuedToken[];
  /**
   * Every answer so far (the last 10 000), oldest first: the envelope code the HTTP status alone
   * does not show.
   */
  answers(): LedgerlyAnswer[];
  /** A login: 401 `invalid_client`; a read: HTTP 200 with TOKEN_EXPIRED in the envelope. */
  rejectAuth(request: SimRequest): SimResponse;
  /** The error envelope with this HTTP status, as Ledgerly's gateway answers it (no retry_after). */
  errorResponse(status: number): SimResponse;
  /** The codes of Ledgerly's error envelope, for a sandbox fault that names one. */
  readonly envelopeCodes: readonly LedgerlyErrorCode[];
  /**
   * `code` in the error envelope, inside HTTP 200 unless `httpStatus` says otherwise; RATE_LIMITED
   * carries `retry_after`: `retryAfterSeconds`, default 1. What `failNext` answers.
   */
  envelopeError(
    code: LedgerlyErrorCode,
    options?: { retryAfterSeconds?: number; httpStatus?: number },
  ): SimResponse;
}

/** Paths relative to the kind's mount. */
export const LEDGERLY_TOKEN_PATH = '/oauth2/token';
export const LEDGERLY_ACCOUNTS_PATH = '/v1/accounts';
const MAX_PAGE_SIZE = 100;
/** The most answers, tokens (issued and live) and live cursors the simulator keeps. */
const MAX_KEPT = 10_000;
const ACCOUNTS_PARAMETERS = ['limit', 'cursor', 'currency'];
const CURRENCY_CODE = /^[A-Z0-9]{2,12}$/;

const MESSAGES: Record<LedgerlyErrorCode, string> = {
  TOKEN_EXPIRED: 'the access token has expired',
  TOKEN_INVALID: 'the access token is missing, malformed or unknown',
  INSUFFICIENT_SCOPE: 'the access token lacks the balances:read scope',
  RATE_LIMITED: 'too many requests',
  INVALID_CURSOR: 'the cursor is unknown, expired or was issued for another listing',
  INVALID_PARAMETER: 'a query parameter is invalid',
  NOT_FOUND: 'no such resource',
  METHOD_NOT_ALLOWED: 'method not allowed',
  INVALID_REQUEST: 'bad request',
  FORBIDDEN: 'forbidden',
  INTERNAL: 'internal error',
  BAD_GATEWAY: 'bad gateway',
  UNAVAILABLE: 'service unavailable',
  GATEWAY_TIMEOUT: 'gateway timeout',
  ERROR: 'error',
};

/** The envelope code Ledgerly's gateway sends with an HTTP error status. */
const CODE_OF_STATUS: Record<number, LedgerlyErrorCode> = {
  400: 'INVALID_REQUEST',
  401: 'TOKEN_INVALID',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  429: 'RATE_LIMITED',
  500: 'INTERNAL',
  502: 'BAD_GATEWAY',
  503: 'UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT',
};

interface TokenState {
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

interface CursorState {
  clientId: string;
  /** The listing the cursor continues: its currency filter, normalized. */
  listing: string;
  offset: number;
  expiresAt: number;
}

/** An error the simulator answers, with the extra fields some codes carry. */
interface EnvelopeError {
  code: LedgerlyErrorCode;
  field?: string;
  retryAfter?: unknown;
}

export function createLedgerlySimulator(options: LedgerlySimulatorOptions): LedgerlySimulator {
  const { clock } = options;
  const tokens = new Map<string, TokenState>();
  const cursors = new Map<string, CursorState>();
  const issued: LedgerlyIssuedToken[] = [];
  const answered: LedgerlyAnswer[] = [];
  const pageSize = options.defaultPageSize ?? 2;
  const cursorTtlMs = (options.cursorTtlSeconds ?? 300) * 1000;
  let ttlSeconds = options.tokenTtlSeconds ?? 3600;
  let rateLimit = options.rateLimit;
  /** Per client: the current window's start and the reads in it. */
  let windows = new Map<string, { start: number; count: number }>();
  let injected: (LedgerlyInjectedError & { remaining: number; pass: number }) | undefined;
  let readDelayMs: number | undefined;
  let cursorLoop = false;

  function note(request: SimRequest, response: SimResponse, code: string, wasInjected = false) {
    // Bounded, for a sandbox that runs for hours (npm start, benchmarks): the newest are kept.
    if (answered.length >= MAX_KEPT) answered.shift();
    answered.push({
      method: request.method,
      path: request.path,
      status: response.status,
      code,
      injected: wasInjected,
      at: clock.now(),
    });
    return response;
  }

  function envelope(error: EnvelopeError, httpStatus = 200, message?: string): SimResponse {
    return json(httpStatus, {
      status: 'error',
      error: {
        code: error.code,
        message: message ?? MESSAGES[error.code],
        ...(error.field === undefined ? {} : { field: error.field }),
        ...(error.retryAfter === undefined ? {} : { retry_after: error.retryAfter }),
      },
      request_id: randomToken('req'),
    });
  }

  function envelopeError(
    code: LedgerlyErrorCode,
    options: { retryAfterSeconds?: number | undefined; httpStatus?: number | undefined } = {},
  ): SimResponse {
    const retryAfter = code === 'RATE_LIMITED' ? (options.retryAfterSeconds ?? 1) : undefined;
    return envelope(
      { code, ...(retryAfter === undefined ? {} : { retryAfter }) },
      options.httpStatus ?? 200,
    );
  }

  /** RFC 6749 §5.2: `{"error": ...}`, with `WWW-Authenticate` when Basic was tried and failed. */
  function oauthError(
    request: SimRequest,
    status: number,
    error: string,
    description: string,
    basic = false,
  ): SimResponse {
    return note(
      request,
      json(
        status,
        { error, error_description: description },
        {
          'cache-control': 'no-store',
          ...(basic ? { 'www-authenticate': 'Basic realm="ledgerly"' } : {}),
        },
      ),
      error,
    );
  }

  function token(request: SimRequest): SimResponse {
    if (request.method !== 'POST') {
      return oauthError(request, 405, 'invalid_request', 'the token endpoint takes POST only');
    }
    const type = String(request.headers['content-type'] ?? '').toLowerCase();
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return oauthError(
        request,
        400,
        'invalid_request',
        'expected an application/x-www-form-urlencoded body',
      );
    }
    const form = new URLSearchParams(request.body);
    // RFC 6749 §3.2: parameters must not be repeated.
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) {
        return oauthError(request, 400, 'invalid_request', `parameter ${name} is repeated`);
      }
    }
    const grantType = form.get('grant_type');
    if (grantType === null) {
      return oauthError(request, 400, 'invalid_request', 'grant_type is missing');
    }
    if (grantType !== 'client_credentials') {
      return oauthError(
        request,
        400,
        'unsupported_grant_type',
        'only client_credentials is supported',
      );
    }
    const authorization = request.headers.authorization;
    const basic = typeof authorization === 'string' ? basicCredentials(authorization) : undefined;
    const inBody = form.has('client_id') || form.has('client_secret');
    // RFC 6749 §2.3: a client uses one authentication method per request.
    if (authorization !== undefined && inBody) {
      return oauthError(
        request,
        400,
        'invalid_request',
        'the client authenticated both with HTTP Basic and in the body',
      );
    }
    if (authorization !== undefined && basic === undefined) {
      return oauthError(request, 401, 'invalid_client', 'client authentication failed', true);
    }
    const credentials = basic ?? {
      clientId: form.get('client_id') ?? '',
      clientSecret: form.get('client_secret') ?? '',
    };
    const client = options.clients.find(
      (candidate) =>
        candidate.clientId === credentials.clientId &&
        candidate.clientSecret === credentials.clientSecret,
    );
    if (client === undefined) {
      return oauthError(
        request,
        401,
        'invalid_client',
        'client authentication failed',
        basic !== undefined,
      );
    }
    // RFC 6749 §3.3: space-delimited; absent means every scope the client holds.
    const scopeText = form.get('scope');
    const requested = scopeText === null ? client.scopes : scopeText.split(' ');
    if (requested.some((scope) => scope === '' || !client.scopes.includes(scope))) {
      return oauthError(request, 400, 'invalid_scope', 'a requested scope is not granted');
    }
    const accessToken = randomToken('lgly_at');
    const expiresAt = clock.now() + ttlSeconds * 1000;
    // The oldest token goes first when the map is full: it then reads as unknown (TOKEN_INVALID).
    if (tokens.size >= MAX_KEPT) tokens.delete(tokens.keys().next().value as string);
    tokens.set(accessToken, { clientId: client.clientId, scopes: requested, expiresAt });
    if (issued.length >= MAX_KEPT) issued.shift();
    issued.push({
      token: accessToken,
      clientId: client.clientId,
      scope: requested.join(' '),
      clientAuth: basic === undefined ? 'body' : 'basic',
      expiresAt,
    });
    return note(
      request,
      json(
        200,
        {
          access_token: accessToken,
          token_type: 'Bearer',
          expires_in: ttlSeconds,
          scope: requested.join(' '),
        },
        // RFC 6749 §5.1.
        { 'cache-control': 'no-store', pragma: 'no-cache' },
      ),
      'OK',
    );
  }

  /** Drops stale cursors; if none is stale, the oldest, so the map stays bounded. */
  function forgetExpiredCursors(): void {
    const now = clock.now();
    for (const [cursor, state] of cursors) if (now >= state.expiresAt) cursors.delete(cursor);
    const oldest = cursors.keys().next();
    if (cursors.size >= MAX_KEPT && oldest.done !== true) cursors.delete(oldest.value);
  }

  /** The client a bearer token reads as, or the error the read answers. */
  function authenticate(request: SimRequest): LedgerlyClient | EnvelopeError {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer ([\x21-\x7e]+)$/.exec(header) : null;
    const state = match?.[1] === undefined ? undefined : tokens.get(match[1]);
    if (state === undefined) return { code: 'TOKEN_INVALID' };
    if (clock.now() >= state.expiresAt) return { code: 'TOKEN_EXPIRED' };
    if (!state.scopes.includes('balances:read')) return { code: 'INSUFFICIENT_SCOPE' };
    const client = options.clients.find((candidate) => candidate.clientId === state.clientId);
    return client ?? { code: 'TOKEN_INVALID' };
  }

  /** Counts a read against the client's window; the seconds to wait when over the limit. */
  function overLimit(clientId: string): number | undefined {
    if (rateLimit === undefined) return undefined;
    const now = clock.now();
    const windowMs = rateLimit.windowSeconds * 1000;
    let window = windows.get(clientId);
    if (window === undefined || now >= window.start + windowMs) {
      window = { start: now, count: 0 };
      windows.set(clientId, window);
    }
    if (window.count >= rateLimit.limit) {
      return Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
    }
    window.count += 1;
    return undefined;
  }

  function accounts(request: SimRequest): SimResponse {
    const fail = (error: EnvelopeError, httpStatus = 200) =>
      note(request, envelope(error, httpStatus), error.code);
    if (request.method !== 'GET') {
      const response = envelope({ code: 'METHOD_NOT_ALLOWED' }, 405);
      return note(
        request,
        { ...response, headers: { ...response.headers, allow: 'GET' } },
        'METHOD_NOT_ALLOWED',
      );
    }
    if (injected !== undefined && injected.pass > 0) {
      injected.pass -= 1;
    } else if (injected !== undefined) {
      const error = injected;
      error.remaining -= 1;
      if (error.remaining <= 0) injected = undefined;
      return note(request, envelopeError(error.code, error), error.code, true);
    }
    const client = authenticate(request);
    if ('code' in client) return fail(client);
    const wait = overLimit(client.clientId);
    if (wait !== undefined) return fail({ code: 'RATE_LIMITED', retryAfter: wait });

    const { query } = request;
    for (const name of new Set(query.keys())) {
      if (!ACCOUNTS_PARAMETERS.includes(name) || query.getAll(name).length > 1) {
        return fail({ code: 'INVALID_PARAMETER', field: name });
      }
    }
    const limitText = query.get('limit');
    const limit = limitText === null ? pageSize : Number(limitText);
    if (limitText !== null && (!/^[1-9]\d{0,2}$/.test(limitText) || limit > MAX_PAGE_SIZE)) {
      return fail({ code: 'INVALID_PARAMETER', field: 'limit' });
    }
    const currencyText = query.get('currency');
    const currencies =
      currencyText === null ? undefined : currencyText.split(',').map((code) => code.toUpperCase());
    if (currencies?.some((code) => !CURRENCY_CODE.test(code))) {
      return fail({ code: 'INVALID_PARAMETER', field: 'currency' });
    }
    const listing = currencies === undefined ? '*' : [...new Set(currencies)].sort().join(',');

    let offset = 0;
    const cursorText = query.get('cursor');
    if (cursorText !== null) {
      const cursor = cursors.get(cursorText);
      if (
        cursor === undefined ||
        cursor.clientId !== client.clientId ||
        cursor.listing !== listing ||
        clock.now() >= cursor.expiresAt
      ) {
        return fail({ code: 'INVALID_CURSOR', field: 'cursor' });
      }
      offset = cursor.offset;
    }

    // With a currency filter: only those positions, and only accounts that hold one of them.
    const wanted = currencies === undefined ? undefined : new Set(currencies);
    const listed = client.accounts
      .map((account) => ({
        ...account,
        positions: account.positions.filter(
          (position) => wanted === undefined || wanted.has(position.currency.toUpperCase()),
        ),
      }))
      .filter((account) => wanted === undefined || account.positions.length > 0);
    const page = listed.slice(offset, offset + limit);
    const hasMore = offset + limit < listed.length;
    let nextCursor: string | null = null;
    if (cursorLoop && cursorText !== null) {
      nextCursor = cursorText;
    } else if (hasMore) {
      nextCursor = randomToken('cur');
      if (cursors.size >= MAX_KEPT) forgetExpiredCursors();
      cursors.set(nextCursor, {
        clientId: client.clientId,
        listing,
        offset: offset + limit,
        expiresAt: clock.now() + cursorTtlMs,
      });
    }
    return note(
      request,
      json(200, {
        status: 'ok',
        data: { accounts: page.map(accountToWire) },
        page: { next_cursor: nextCursor, has_more: nextCursor !== null },
        request_id: randomToken('req'),
      }),
      'OK',
    );
  }

  return {
    kind: 'rest',
    loginTokenPath: ['access_token'],
    amountFields: ['ledger', 'available', 'reserved', 'pending'],
    expireTokens() {
      const now = clock.now();
      for (const state of tokens.values()) state.expiresAt = Math.min(state.expiresAt, now);
    },
    revokeTokens: () => tokens.clear(),
    setTokenTtlSeconds(seconds) {
      ttlSeconds = seconds;
    },
    invalidateCursors: () => cursors.clear(),
    setRateLimit(limit) {
      rateLimit = limit;
      windows = new Map();
    },
    delayReads(ms) {
      readDelayMs = ms;
    },
    loopCursors(enabled) {
      cursorLoop = enabled;
    },
    failNext(error) {
      injected = { ...error, remaining: error.times ?? 1, pass: error.after ?? 0 };
    },
    issuedTokens: () => issued.map((entry) => ({ ...entry })),
    answers: () => answered.map((entry) => ({ ...entry })),
    rejectAuth(request) {
      if (request.path === LEDGERLY_TOKEN_PATH) {
        return oauthError(request, 401, 'invalid_client', 'client authentication failed');
      }
      return note(request, envelope({ code: 'TOKEN_EXPIRED' }), 'TOKEN_EXPIRED');
    },
    errorResponse(status) {
      const code = CODE_OF_STATUS[status];
      return code === undefined
        ? envelope({ code: 'ERROR' }, status, statusMessage(status).toLowerCase())
        : envelope({ code }, status);
    },
    envelopeCodes: LEDGERLY_ERROR_CODES,
    envelopeError,
    handle(request) {
      if (request.path === LEDGERLY_TOKEN_PATH) return token(request);
      if (request.path === LEDGERLY_ACCOUNTS_PATH) {
        if (readDelayMs === undefined) return accounts(request);
        const delay = readDelayMs;
        return new Promise((resolve) => setTimeout(() => resolve(accounts(request)), delay));
      }
      return note(request, envelope({ code: 'NOT_FOUND' }, 404), 'NOT_FOUND');
    },
  };
}

/**
 * HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-urlencoded before encoding);
 * undefined when the header is not Basic or does not decode.
 */
function basicCredentials(header: string): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header);
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const formDecode = (text: string) => decodeURIComponent(text.replaceAll('+', ' '));
  try {
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

/** An account as Ledgerly sends it: snake_case, positions nested, amounts as integer strings. */
function accountToWire(account: LedgerlyAccountData): Record<string, unknown> {
  return {
    account_id: account.id,
    display_name: account.name,
    account_type: account.type,
    state: account.state,
    positions: account.positions.map((position) => ({
      asset: { code: position.currency, network: position.network },
      exponent: position.exponent,
      ledger: position.ledger,
      available: position.available,
      reserved: position.reserved,
      pending: position.pending,
      as_of: position.asOf,
      ...(position.depositAddress === undefined
        ? {}
        : {
            deposit_address: {
              address: position.depositAddress.address,
              memo: position.depositAddress.memo,
            },
          }),
    })),
  };
}

/** The rest kind's sandbox part: the Ledgerly simulator, its demo data and demo providers. */
export const restSandbox: ProviderKindSandbox<LedgerlySandboxData, LedgerlySimulator> = {
  createSimulator: (data, clock) => createLedgerlySimulator({ ...data, clock }),
  demoData: createLedgerlyDemoData,
  demoProviders: ledgerlyDemoProviders,
  redactHeaders: ['authorization'],
  isLogin: (path) => path === LEDGERLY_TOKEN_PATH,
};
