import type { Plugin } from 'graphql-yoga';
import type { CallerAuthenticator, CallerAuthResult } from '../caller-auth.js';

/** Why a caller was refused. */
export type CallerAuthFailure = Extract<CallerAuthResult, { ok: false }>;

/** The authenticated caller of a request. */
export interface Caller {
  tenantId: string;
  /** An API key configured with `"federation": true`: it may read `_service { sdl }`. */
  federation: boolean;
}

/** The caller authentication of a Yoga server, and the caller it found for each request. */
export interface CallerAuthPlugin {
  plugin: Plugin;
  /** The authenticated tenant of a request that got through. */
  tenantOf(request: Request): string | undefined;
  /** The authenticated caller of a request that got through (undefined when auth is off). */
  callerOf(request: Request): Caller | undefined;
}

/** The realm of every challenge. */
const REALM = 'balance-api';

/**
 * The `WWW-Authenticate` challenge of a refusal (RFC 6750): `error="invalid_token"` and the reason
 * when a credential was sent and refused, the bare challenge when none was sent.
 */
export function wwwAuthenticateChallenge(failure: CallerAuthFailure): string {
  return failure.invalidToken
    ? `Bearer realm="${REALM}", error="invalid_token", error_description="${failure.reason.replaceAll('"', "'")}"`
    : `Bearer realm="${REALM}"`;
}

/** The JSON body of a 401: one UNAUTHENTICATED error saying why. */
export function unauthenticatedBody(failure: CallerAuthFailure): string {
  return JSON.stringify({
    errors: [
      { message: `Unauthenticated: ${failure.reason}`, extensions: { code: 'UNAUTHENTICATED' } },
    ],
  });
}

/** The headers of a 401: its content type and its challenge. */
export function unauthenticatedHeaders(failure: CallerAuthFailure): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'www-authenticate': wwwAuthenticateChallenge(failure),
  };
}

/**
 * Results of authentications made before Yoga saw the request, keyed by the object the server
 * hands Yoga as `serverContext.req` (Node's IncomingMessage).
 */
const earlyResults = new WeakMap<object, CallerAuthResult>();

/**
 * Hands Yoga the result of authenticating a request before its body was read (the Node handler,
 * after the headers), so that it is not authenticated twice: call it with the IncomingMessage that
 * is then passed to the Yoga handler. A request without one is authenticated by Yoga as usual.
 */
export function rememberCallerAuth(nodeRequest: object, result: CallerAuthResult): void {
  earlyResults.set(nodeRequest, result);
}

/** The result `rememberCallerAuth` kept for a Node request, if any. */
export function earlyCallerAuthOf(nodeRequest: object): CallerAuthResult | undefined {
  return earlyResults.get(nodeRequest);
}

/** The refusal of a request that sent no credentials. */
export const NO_CREDENTIALS: CallerAuthFailure = {
  ok: false,
  reason: 'authentication is required: send "Authorization: Bearer <API key or JWT>"',
  invalidToken: false,
};

/**
 * Authenticates every GraphQL request before it is parsed; a refused one ends at once with HTTP 401,
 * a `WWW-Authenticate` challenge and an UNAUTHENTICATED error, having fetched nothing upstream.
 * GraphiQL's page and CORS preflights need no credentials (GraphiQL sends them with each query):
 * Yoga answers both before this plugin runs, so whatever reaches it is a GraphQL request.
 */
export function useCallerAuth(authenticator: CallerAuthenticator): CallerAuthPlugin {
  const callers = new WeakMap<Request, Caller>();
  return {
    tenantOf: (request) => callers.get(request)?.tenantId,
    callerOf: (request) => callers.get(request),
    plugin: {
      async onRequest({ request, serverContext, endResponse }) {
        // Without an auth section every request is the default tenant's: nothing to check.
        if (!authenticator.required) return;
        // A preflight is answered by the CORS plugin, or refused by Yoga's method check.
        if (request.method === 'OPTIONS') return;
        const nodeRequest = (serverContext as { req?: unknown } | undefined)?.req;
        const result =
          (typeof nodeRequest === 'object' && nodeRequest !== null
            ? earlyResults.get(nodeRequest)
            : undefined) ??
          (await authenticator.authenticate(request.headers.get('authorization')));
        if (result.ok) {
          callers.set(request, {
            tenantId: result.tenantId,
            federation: result.federation === true,
          });
          return;
        }
        endResponse(
          new Response(unauthenticatedBody(result), {
            status: 401,
            headers: unauthenticatedHeaders(result),
          }),
        );
      },
    },
  };
}
