import { decodeJwt } from 'jose';
import { isLosslessNumber } from 'lossless-json';
import type { ReadBound } from '../../upstream/deadline.js';
import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamHttp, UpstreamResponse } from '../../upstream/http.js';
import type { SessionToken } from '../../upstream/token-cache.js';
import { readWithinContract } from '../bad-response.js';
import {
  REST_DEFAULT_LOGIN_PATH,
  type RestConfig,
  type RestTokenLifetime,
  type RestTokenSend,
} from './config.js';
import type { RestAnswerReader } from './errors.js';
import { type JsonPointer, parsePointer, pointerWhere, readPointer } from './pointer.js';
import { compileJsonTemplate, compileTemplate, withQuery } from './request.js';

/**
 * How a `rest` provider authenticates: what every call carries (none, basic, bearer, apiKey), or
 * a session token from a login (oauth2ClientCredentials, login), kept per (tenant, provider) by
 * the token cache: single-flight, renewed before expiry, one re-login on rejection.
 */

/** What one balance call carries: headers and query parameters. */
export interface RestCallAuth {
  headers: Record<string, string>;
  query: Record<string, string>;
}

export type RestAuthorizer =
  | { kind: 'static'; call: RestCallAuth }
  | {
      kind: 'session';
      /**
       * Logs in through `http` (the read's transport, bounded already): the token and when it
       * stops being accepted. `bound` is the read's, which `http` already carries.
       */
      login(http: UpstreamHttp, bound: ReadBound): Promise<SessionToken>;
      /** What a balance call carries with `token`. */
      withToken(token: string): RestCallAuth;
      /** The header of a successful answer that hands over a new token. */
      rotateHeader: string | undefined;
      /** How long a rotated token lives: as long as the last login's did. */
      lifetimeMs(): number;
    };

/** Where the token of an OAuth2 answer is (RFC 6749 §5.1), and its life in seconds. */
const OAUTH_TOKEN = parsePointer('/access_token') as JsonPointer;
const OAUTH_EXPIRES_IN = parsePointer('/expires_in') as JsonPointer;
const DEFAULT_OAUTH_LIFETIME: RestTokenLifetime = { seconds: 3600 };

export interface RestAuthOptions {
  config: RestConfig;
  settle: RestAnswerReader;
  now: () => number;
}

export function createRestAuthorizer(options: RestAuthOptions): RestAuthorizer {
  const { config, settle, now } = options;
  const { auth, credentials } = config;
  const values = { credentials };
  const render = (text: string) => compileTemplate(text, config, false)(values);
  switch (auth.type) {
    case 'none':
      return { kind: 'static', call: { headers: {}, query: {} } };
    case 'basic':
      return {
        kind: 'static',
        call: {
          headers: { authorization: basic(render(auth.username), render(auth.password)) },
          query: {},
        },
      };
    case 'bearer':
      return {
        kind: 'static',
        call: { headers: { authorization: `Bearer ${render(auth.token)}` }, query: {} },
      };
    case 'apiKey': {
      const value = render(auth.value);
      return {
        kind: 'static',
        call:
          auth.in === 'header'
            ? { headers: { [auth.name]: value }, query: {} }
            : { headers: {}, query: { [auth.name]: value } },
      };
    }
  }

  const path = config.paths.login ?? REST_DEFAULT_LOGIN_PATH;
  const withToken = tokenSender(auth.send, config);
  let lastLifetimeMs = 0;
  const what = { call: 'login' as const, what: 'the login' };

  /** A login answer settled by the error table, then read for its token and lifetime. */
  const grant = (
    response: UpstreamResponse,
    tokenAt: JsonPointer,
    lifetime: (body: unknown, token: string) => number,
  ): SessionToken => {
    const outcome = settle(response, { ...what, oauth: auth.type === 'oauth2ClientCredentials' });
    if (outcome.kind === 'empty') {
      throw new UpstreamError(
        'UPSTREAM_BAD_RESPONSE',
        `${config.id}: the login returned no token`,
        {
          providerId: config.id,
          status: response.status,
        },
      );
    }
    return readWithinContract(config.id, 'the login', () => {
      const value = readPointer(outcome.body, tokenAt);
      if (typeof value !== 'string' || value === '') {
        throw new ContractViolation(
          `${pointerWhere('login body', tokenAt)}: expected a token, received ${
            value === '' ? '""' : describe(value)
          }`,
        );
      }
      const expiresAt = lifetime(outcome.body, value);
      lastLifetimeMs = Math.max(0, expiresAt - now());
      return { value, expiresAt };
    });
  };

  if (auth.type === 'oauth2ClientCredentials') {
    const clientId = render(auth.clientId);
    const clientSecret = render(auth.clientSecret);
    const form: Record<string, string> = { grant_type: 'client_credentials' };
    if (auth.scope !== undefined) form.scope = auth.scope;
    const headers: Record<string, string> = {};
    if (auth.clientAuth === 'basic') {
      // RFC 6749 §2.3.1: each part form-urlencoded before the Basic encoding.
      headers.authorization = basic(formEncode(clientId), formEncode(clientSecret));
    } else {
      form.client_id = clientId;
      form.client_secret = clientSecret;
    }
    const fallback = lifetimeReader(auth.lifetime ?? DEFAULT_OAUTH_LIFETIME, now);
    return {
      kind: 'session',
      rotateHeader: undefined,
      lifetimeMs: () => lastLifetimeMs,
      withToken,
      async login(http) {
        // A token endpoint on a host of its own is reached through the same transport: the same
        // deadline, body cap, metrics and traces as the provider's other calls.
        const response = await http.send({
          method: 'POST',
          path,
          ...(auth.tokenUrl === undefined ? {} : { url: auth.tokenUrl }),
          headers,
          form,
          route: 'login',
          // A login is never repeated automatically.
          retry: 'never',
        });
        return grant(response, OAUTH_TOKEN, (body, token) =>
          readPointer(body, OAUTH_EXPIRES_IN) === undefined
            ? fallback(body, token)
            : secondsFrom(body, OAUTH_EXPIRES_IN, now),
        );
      },
    };
  }

  // auth.type === 'login'
  const tokenAt = parsePointer(auth.token) as JsonPointer;
  const lifetime = lifetimeReader(auth.lifetime, now);
  const headers = compileTemplateMap(auth.headers, config);
  const query = compileTemplateMap(auth.query, config);
  const body = auth.body === undefined ? undefined : compileJsonTemplate(auth.body, config);
  return {
    kind: 'session',
    rotateHeader: auth.rotateHeader,
    lifetimeMs: () => lastLifetimeMs,
    withToken,
    async login(http) {
      const loginPath = withQuery(path, Object.entries(query(values)));
      const form = auth.bodyFormat === 'form' && body !== undefined;
      const response = await http.send({
        method: form ? 'POST' : auth.method,
        path: loginPath,
        headers: headers(values),
        ...(body === undefined
          ? {}
          : form
            ? { form: body(values) as Record<string, string> }
            : { json: body(values) }),
        route: 'login',
        // A login is never repeated automatically.
        retry: 'never',
      });
      return grant(response, tokenAt, lifetime);
    },
  };
}

/** What a balance call carries with a session token, as `auth.send` says. */
function tokenSender(send: RestTokenSend, config: RestConfig): (token: string) => RestCallAuth {
  if ('query' in send) return (token) => ({ headers: {}, query: { [send.query]: token } });
  const value = compileTemplate(send.value, config, true);
  return (token) => ({
    headers: { [send.header]: value({ credentials: config.credentials, token }) },
    query: {},
  });
}

function compileTemplateMap(
  map: Record<string, string>,
  config: RestConfig,
): (values: { credentials: RestConfig['credentials'] }) => Record<string, string> {
  const entries = Object.entries(map).map(
    ([key, text]) => [key, compileTemplate(text, config, false)] as const,
  );
  return (values) => Object.fromEntries(entries.map(([key, render]) => [key, render(values)]));
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** application/x-www-form-urlencoded of one value. */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (isLosslessNumber(value)) return 'a number';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** When the token stops being accepted (ms since the epoch), as the configuration says. */
function lifetimeReader(
  lifetime: RestTokenLifetime,
  now: () => number,
): (body: unknown, token: string) => number {
  if ('seconds' in lifetime) return () => now() + lifetime.seconds * 1000;
  if ('jwtExp' in lifetime) {
    return (_body, token) => {
      let exp: unknown;
      try {
        exp = decodeJwt(token).exp;
      } catch {
        throw new ContractViolation(
          'login token: expected a JWT, received a token that is not one',
        );
      }
      if (typeof exp !== 'number' || !Number.isFinite(exp)) {
        throw new ContractViolation('login token: expected a JWT with an exp claim, received none');
      }
      return future(exp * 1000, 'login token.exp', now);
    };
  }
  if ('secondsAt' in lifetime) {
    const at = parsePointer(lifetime.secondsAt) as JsonPointer;
    return (body) => secondsFrom(body, at, now);
  }
  const at = parsePointer(lifetime.expiresAt) as JsonPointer;
  const { format } = lifetime;
  return (body) => {
    const value = readPointer(body, at);
    const where = pointerWhere('login body', at);
    let time = Number.NaN;
    if (format === 'iso') {
      if (typeof value === 'string') time = Date.parse(value);
    } else {
      const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
      if (/^\d{1,16}$/.test(text)) time = Number(text) * (format === 'unixSeconds' ? 1000 : 1);
    }
    if (Number.isNaN(time)) {
      throw new ContractViolation(
        `${where}: expected a time (${format}), received ${describe(value)}`,
      );
    }
    return future(time, where, now);
  };
}

/** A life in seconds at a pointer: a positive number, or a string of one. */
function secondsFrom(body: unknown, at: JsonPointer, now: () => number): number {
  const value = readPointer(body, at);
  const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
  const seconds = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new ContractViolation(
      `${pointerWhere('login body', at)}: expected a positive number of seconds`,
    );
  }
  return now() + seconds * 1000;
}

function future(time: number, where: string, now: () => number): number {
  if (!(time > now())) {
    throw new ContractViolation(`${where}: expected a time in the future, received one passed`);
  }
  return time;
}
