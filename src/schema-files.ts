import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const SCHEMA_DIR = new URL('../schema/', import.meta.url);
const OPERATIONS_DIR = new URL('../schema/operations/', import.meta.url);

/**
 * The trusted-documents manifest of schema/operations/: the SHA-256 (hex) of each document's text
 * to the text, the format GraphQL Codegen's persisted documents and Yoga's plugin use.
 */
export function operationsManifest(): Record<string, string> {
  const manifest: Record<string, string> = {};
  const files = readdirSync(OPERATIONS_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort();
  for (const name of files) {
    const text = readFileSync(new URL(name, OPERATIONS_DIR), 'utf8');
    manifest[createHash('sha256').update(text).digest('hex')] = text;
  }
  return manifest;
}

/**
 * `npm run schema`: the printed SDL, the subgraph SDL, the operations manifest and the JSON
 * Schema of the configuration file.
 */
export function writeSchemaFiles(
  sdl: string,
  subgraphSdl: string,
  configSchema: Record<string, unknown>,
): void {
  writeFileSync(new URL('schema.graphql', SCHEMA_DIR), sdl);
  writeFileSync(
    new URL('config.schema.json', SCHEMA_DIR),
    `${JSON.stringify(configSchema, null, 2)}\n`,
  );
  writeFileSync(new URL('subgraph.graphql', SCHEMA_DIR), subgraphSdl);
  writeFileSync(
    new URL('manifest.json', OPERATIONS_DIR),
    `${JSON.stringify(operationsManifest(), null, 2)}\n`,
  );
}
