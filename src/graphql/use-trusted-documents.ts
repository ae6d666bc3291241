import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';

const ONLY_TRUSTED = {
  message: 'Only trusted documents are accepted: send the SHA-256 of an operation of the manifest',
  extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
};

/** The hash a request names: Apollo's `extensions.persistedQuery.sha256Hash`, or `documentId`. */
function trustedDocumentIdOf(params: unknown): string | null {
  const { extensions, documentId } = params as {
    extensions?: { persistedQuery?: { sha256Hash?: unknown } };
    documentId?: unknown;
  };
  const id = extensions?.persistedQuery?.sha256Hash ?? documentId;
  return typeof id === 'string' ? id : null;
}

/**
 * Runs only the operations of the manifest, sent by the SHA-256 of their text; any other request
 * is refused before its document is parsed (HTTP 400 PERSISTED_QUERY_ONLY, or
 * PERSISTED_QUERY_NOT_FOUND for a hash the manifest lacks).
 */
export function useTrustedDocuments(
  /** The manifest, hash to document: server.trustedDocuments (default none: the plugin is off). */
  manifest: ReadonlyMap<string, string>,
): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (hash) => manifest.get(hash) ?? null,
    allowArbitraryOperations: false,
    extractPersistedOperationId: trustedDocumentIdOf,
    customErrors: {
      persistedQueryOnly: ONLY_TRUSTED,
      keyNotFound: ONLY_TRUSTED,
      notFound: {
        message: 'No trusted document has this hash',
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
      },
    },
  }) as Plugin;
}
