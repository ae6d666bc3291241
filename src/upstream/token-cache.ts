import {
  UpstreamError,
  UpstreamRequestNotSentError,
  UpstreamTokenRejectedError,
} from './errors.js';

/** The longest session token kept unless the provider's `maxTokenBytes` says otherwise. */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

/** A session token and when the upstream stops accepting it (ms since the epoch). */
export interface SessionToken {
  value: string;
  expiresAt: number;
}

/** A token as a slot obtained it: when its login started, and whether a login was made for it. */
export interface ObtainedToken {
  token: SessionToken;
  /** When the login that got it started (ms since the epoch): its renewal is reckoned from it. */
  obtainedAt: number;
  /** True when a login was made for it here, false when another instance's token was taken. */
  fresh: boolean;
}

/**
 * How a slot shares its session with the other instances of a cluster (`cluster` in the
 * configuration, only for kinds whose sessions are portable). Never throws for the cluster's sake:
 * without Redis it logs in alone.
 */
export interface SessionSharing {
  /**
   * The cluster's token when `usable` says it may serve, else one from a single login across the
   * cluster (`login` here, or another instance's, awaited). A token `keep` refuses is not shared.
   */
  obtain(
    login: () => Promise<SessionToken>,
    usable: (token: SessionToken, obtainedAt: number) => boolean,
    keep: (token: SessionToken) => boolean,
  ): Promise<ObtainedToken>;
  /** The upstream refused `value`: the cluster forgets it unless it holds a newer token. */
  invalidate(value: string): void;
  /** The upstream rotated `previous` to `next`: the cluster's token becomes `next` if it was `previous`. */
  rotate(previous: string, next: SessionToken, obtainedAt: number): void;
}

export interface TokenCacheOptions {
  /** The clock; tests move it. Default Date.now. */
  now?: () => number;
  /** Renew this long before expiry at most; default 60 000 ms. */
  renewBeforeMs?: number;
  /** ...and at most this fraction of the token's life; default 0.1. */
  renewBeforeFraction?: number;
}

interface SlotState {
  token: SessionToken | undefined;
  /** When the token is renewed instead of used: a margin before expiry. */
  renewAt: number;
  /** The login in flight, awaited by every caller instead of starting another. */
  inFlight: Promise<{ token: SessionToken; fresh: boolean }> | undefined;
}

/**
 * Session tokens that outlive a request, keyed by (tenant, provider): one slot per provider
 * instance of each tenant, so no tenant's login ever serves another.
 */
export class TokenCacheByTenantAndProvider {
  private readonly slots = new Map<string, TokenSlot>();
  private readonly now: () => number;
  private readonly renewBeforeMs: number;
  private readonly renewBeforeFraction: number;

  constructor(options: TokenCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.renewBeforeMs = options.renewBeforeMs ?? 60_000;
    this.renewBeforeFraction = options.renewBeforeFraction ?? 0.1;
  }

  slot(tenantId: string, providerId: string): TokenSlot {
    const key = JSON.stringify([tenantId, providerId]);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = new TokenSlot(
        this.now,
        (token, obtainedAt) => {
          const life = Math.max(0, token.expiresAt - obtainedAt);
          return token.expiresAt - Math.min(this.renewBeforeMs, life * this.renewBeforeFraction);
        },
        providerId,
      );
      this.slots.set(key, slot);
    }
    return slot;
  }
}

/**
 * One (tenant, provider)'s token: single-flight login, renewal before expiry, rotation. A token is
 * kept only if it can be sent in a header: visible ASCII, at most `maxTokenBytes` bytes.
 */
export class TokenSlot {
  private state: SlotState = { token: undefined, renewAt: 0, inFlight: undefined };
  /** How many logins this slot started; tests and logs read it. */
  logins = 0;
  private maxTokenBytes = DEFAULT_MAX_TOKEN_BYTES;
  private sharing: SessionSharing | undefined;
  /** The last token the upstream refused, when the session is shared. */
  private rejected: string | undefined;

  constructor(
    private readonly now: () => number,
    private readonly renewAtFor: (token: SessionToken, obtainedAt: number) => number,
    private readonly providerId: string,
  ) {}

  /** The provider's configured `maxTokenBytes`; default 8192. */
  setMaxTokenBytes(maxTokenBytes: number): void {
    this.maxTokenBytes = maxTokenBytes;
  }

  /**
   * Shares this slot's session with the other instances of a cluster: its logins go through
   * `sharing` (one per cluster), and so do its invalidations and rotations. Default: not shared.
   */
  share(sharing: SessionSharing): void {
    this.sharing = sharing;
  }

  /**
   * The current token, logging in first when there is none or it is due for renewal. `fresh` is
   * true when this call waited for a login, so a rejection of it is not retried with another (a
   * token another instance obtained is not fresh: its rejection gets a login of this one's).
   */
  async get(login: () => Promise<SessionToken>): Promise<{ token: SessionToken; fresh: boolean }> {
    const { token, renewAt, inFlight } = this.state;
    if (token !== undefined && this.now() < renewAt) return { token, fresh: false };
    if (inFlight !== undefined) return inFlight;
    const started = this.now();
    this.logins += 1;
    const obtained: Promise<ObtainedToken> =
      this.sharing === undefined
        ? login().then((next) => ({ token: next, obtainedAt: started, fresh: true }))
        : this.sharing.obtain(
            login,
            (shared, obtainedAt) =>
              shared.value !== this.rejected &&
              tokenProblem(shared.value, this.maxTokenBytes) === undefined &&
              this.now() < this.renewAtFor(shared, obtainedAt),
            (next) => tokenProblem(next.value, this.maxTokenBytes) === undefined,
          );
    const pending = obtained.then(
      ({ token: next, obtainedAt, fresh }) => {
        // A token that cannot be sent would fail every read until it expires: never keep one.
        const problem = tokenProblem(next.value, this.maxTokenBytes);
        if (this.state.inFlight === pending) {
          if (problem === undefined) this.store(next, obtainedAt);
          else this.state = { ...this.state, inFlight: undefined };
        }
        if (problem !== undefined) {
          throw new UpstreamError(
            'UPSTREAM_BAD_RESPONSE',
            `${this.providerId}: the login returned ${problem}`,
            { providerId: this.providerId },
          );
        }
        return { token: next, fresh };
      },
      (error: unknown) => {
        if (this.state.inFlight === pending) this.state = { ...this.state, inFlight: undefined };
        throw error;
      },
    );
    this.state = { ...this.state, inFlight: pending };
    return pending;
  }

  /** Forgets `value` if it is still the current token; a newer token is kept. */
  invalidate(value: string): void {
    if (this.state.token?.value === value)
      this.state = { ...this.state, token: undefined, renewAt: 0 };
    if (this.sharing === undefined) return;
    // The cluster may still hand it out until its invalidation lands: never take it back.
    this.rejected = value;
    this.sharing.invalidate(value);
  }

  /**
   * Adopts a rotated token handed out with a response to a call made with `previous`. A rotation
   * that arrives late, after a newer token was adopted, is ignored; so is one to a token that
   * cannot be sent (the session goes on with `previous`, which lives until its own expiry).
   */
  rotate(previous: string, next: SessionToken): boolean {
    if (this.state.token?.value !== previous) return false;
    if (tokenProblem(next.value, this.maxTokenBytes) !== undefined) return false;
    const obtainedAt = this.now();
    this.store(next, obtainedAt);
    this.sharing?.rotate(previous, next, obtainedAt);
    return true;
  }

  current(): SessionToken | undefined {
    return this.state.token;
  }

  private store(token: SessionToken, obtainedAt: number): void {
    this.state = { token, renewAt: this.renewAtFor(token, obtainedAt), inFlight: undefined };
  }
}

/**
 * What makes a token unusable in an `Authorization` header, as the end of "the login returned
 * ..."; undefined for a usable one. Never quotes the token. Visible ASCII only (RFC 7230's
 * field-value without spaces, tabs or obs-text, as bearer tokens are), so no line break can
 * split the header and no client refuses it.
 */
export function tokenProblem(value: string, maxTokenBytes: number): string | undefined {
  if (value === '') return 'an empty token';
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxTokenBytes) {
    return `a token longer than maxTokenBytes (${maxTokenBytes}) bytes (received ${bytes} bytes)`;
  }
  const bad = value.match(/[^\x21-\x7e]/)?.[0];
  if (bad === undefined) return undefined;
  const received =
    bad === '\r' || bad === '\n'
      ? 'a line break'
      : bad === ' '
        ? 'a space'
        : bad < ' ' || bad === '\x7f'
          ? 'a control character'
          : 'a character outside ASCII';
  return `a token that cannot be sent in a header (expected visible ASCII characters only, received ${received})`;
}

/**
 * Calls `call` with the slot's token. An upstream rejection of a cached token causes exactly one
 * re-login (shared with concurrent callers) and one retry; a second rejection is final. A token
 * that could not be sent (the HTTP client refused the request, or the provider answered 431)
 * drops the session, so the next read logs in again instead of failing the same way until the
 * token expires.
 */
export async function callWithSessionToken<T>(
  slot: TokenSlot,
  login: () => Promise<SessionToken>,
  call: (token: string) => Promise<T>,
  providerId: string,
): Promise<T> {
  const first = await slot.get(login);
  try {
    return await call(first.token.value);
  } catch (error) {
    if (isUnsent(error)) throw dropUnsent(slot, first.token.value, providerId, error);
    if (!(error instanceof UpstreamTokenRejectedError)) throw error;
    if (first.fresh) throw authFailed(providerId, error);
    slot.invalidate(first.token.value);
  }
  const second = await slot.get(login);
  try {
    return await call(second.token.value);
  } catch (error) {
    if (isUnsent(error)) throw dropUnsent(slot, second.token.value, providerId, error);
    throw error instanceof UpstreamTokenRejectedError ? authFailed(providerId, error) : error;
  }
}

/** A call that failed because its headers could not be sent or were refused as too large. */
function isUnsent(error: unknown): error is UpstreamError {
  return (
    error instanceof UpstreamRequestNotSentError ||
    (error instanceof UpstreamError && error.status === 431)
  );
}

function dropUnsent(
  slot: TokenSlot,
  token: string,
  providerId: string,
  cause: UpstreamError,
): UpstreamError {
  slot.invalidate(token);
  const why =
    cause.status === 431
      ? 'the provider answered HTTP 431, request header fields too large'
      : 'the HTTP client refused the request headers';
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: the session token could not be sent (${why}); the session is dropped and the next read logs in again`,
    { providerId, ...(cause.status === undefined ? {} : { status: cause.status }), cause },
  );
}

function authFailed(providerId: string, cause: UpstreamTokenRejectedError): UpstreamError {
  return new UpstreamError(
    'UPSTREAM_AUTH_FAILED',
    `${providerId}: the provider rejected the session after a new login; check the credentials`,
    { providerId, ...(cause.status === undefined ? {} : { status: cause.status }), cause },
  );
}
