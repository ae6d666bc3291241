import type { Plugin } from 'graphql-yoga';
import type { CallerAuthenticator } from '../caller-auth.js';

/** The caller authentication of a Yoga server, and the tenant it found for each request. */
export interface CallerAuthPlugin {
  plugin: Plugin;
  /** The authenticated tenant of a request that got through. */
  tenantOf(request: Request): string | undefined;
}

/**
 * Authenticates every GraphQL request before it is parsed; a refused one ends at once with HTTP 401,
 * a `WWW-Authenticate` challenge and an UNAUTHENTICATED error, having fetched nothing upstream.
 * GraphiQL's page and CORS preflights need no credentials (GraphiQL sends them with each query).
 */
export function useCallerAuth(authenticator: CallerAuthenticator): CallerAuthPlugin {
  const tenants = new WeakMap<Request, string>();
  return {
    tenantOf: (request) => tenants.get(request),
    plugin: {
      async onRequest({ request, url, endResponse }) {
        // Without an auth section every request is the default tenant's: nothing to check.
        if (!authenticator.required) return;
        if (request.method === 'OPTIONS' || isGraphiQLPage(request, url)) return;
        const result = await authenticator.authenticate(request.headers.get('authorization'));
        if (result.ok) {
          tenants.set(request, result.tenantId);
          return;
        }
        const challenge = result.invalidToken
          ? `Bearer realm="balance-api", error="invalid_token", error_description="${result.reason.replaceAll('"', "'")}"`
          : 'Bearer realm="balance-api"';
        endResponse(
          new Response(
            JSON.stringify({
              errors: [
                {
                  message: `Unauthenticated: ${result.reason}`,
                  extensions: { code: 'UNAUTHENTICATED' },
                },
              ],
            }),
            {
              status: 401,
              headers: {
                'content-type': 'application/json; charset=utf-8',
                'www-authenticate': challenge,
              },
            },
          ),
        );
      },
    },
  };
}

/** A browser asking for the GraphiQL page: a GET that accepts HTML and carries no query. */
function isGraphiQLPage(request: Request, url: URL): boolean {
  return (
    request.method === 'GET' &&
    (request.headers.get('accept') ?? '').includes('text/html') &&
    !url.searchParams.has('query')
  );
}
