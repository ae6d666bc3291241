import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ResolvedCredentials, SecretReference } from '../providers/provider-config.js';
import { errorCode } from './messages.js';

/**
 * Secret references (`"value"`, `{ "env": NAME }`, `{ "file": PATH }`) resolved to their values.
 * Only the configuration reads the environment or secret files; adapters receive the values.
 */

/** Where the configuration's references point. */
export interface ConfigSources {
  /** `{ "env": NAME }` secrets, NODE_ENV and LOG_LEVEL are read from here. */
  env: NodeJS.ProcessEnv;
  /** Relative `{ "file": ... }` secrets (and the JWKS and manifest files) are read from here. */
  baseDir: string;
}

/** What an environment variable's name looks like; only such a name is echoed. */
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Every secret reference of a provider's credentials resolved to its value, the fields kept. */
export function resolveCredentials<C extends Record<string, SecretReference>>(
  credentials: C,
  label: string,
  sources: ConfigSources,
  problems: string[],
): ResolvedCredentials<C> | undefined {
  const resolved: Record<string, string> = {};
  let ok = true;
  for (const [field, reference] of Object.entries(credentials)) {
    const value = resolveSecret(reference, `${label}: credentials.${field}`, sources, problems);
    if (value === undefined) ok = false;
    else resolved[field] = value;
  }
  // Each field of `credentials` now holds its value: the shape of ResolvedCredentials<C>.
  return ok ? (resolved as ResolvedCredentials<C>) : undefined;
}

/**
 * A secret reference resolved: the value, an environment variable, or a file (relative to the
 * configuration's folder, one trailing newline dropped). A problem names `where`, never the value.
 */
export function resolveSecret(
  reference: SecretReference,
  where: string,
  sources: ConfigSources,
  problems: string[],
): string | undefined {
  if (typeof reference === 'string') return reference;
  if ('env' in reference) {
    const value = sources.env[reference.env];
    if (value === undefined || value === '') {
      problems.push(
        ENV_NAME_PATTERN.test(reference.env)
          ? `${where}: environment variable ${reference.env} is not set`
          : `${where}: the environment variable named there is not set (and its name is not a valid variable name)`,
      );
      return undefined;
    }
    return value;
  }
  const path = resolve(sources.baseDir, reference.file);
  try {
    // A secret file usually ends with a newline that is not part of the secret.
    const value = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    if (value === '') {
      problems.push(`${where}: file ${path} is empty`);
      return undefined;
    }
    return value;
  } catch (error) {
    problems.push(`${where}: cannot read file ${path} (${errorCode(error)})`);
    return undefined;
  }
}
