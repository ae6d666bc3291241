import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { idSchema } from '../providers/provider-config.js';
import { type AuthConfig, authSchema, resolveAuth } from './auth.js';
import { type ClusterConfig, clusterSchema, resolveCluster } from './cluster.js';
import { ConfigError, describeIssue, errorCode, whereJsonBreaks } from './messages.js';
import type { ConfigSources } from './secrets.js';
import { resolveServer, type ServerConfig, serverSchema } from './server.js';
import { DEFAULT_TENANT_ID, parseTenants, type TenantConfig } from './tenants.js';

/**
 * The configuration as a whole: the file named by `--config` or BALANCE_API_CONFIG, validated
 * section by section, then PORT and HOST and `--port` and `--host` over its server section.
 */

export const fileSchema = z.strictObject({
  /** The file's JSON Schema, for editors (`schema/config.schema.json`); ignored here. */
  $schema: z.string().optional(),
  /** Every setting has its default; the section may be left out. */
  server: serverSchema.prefault({}),
  /** Who may call; without it everyone is served the default tenant. */
  auth: authSchema.optional(),
  /** The providers of the tenant named "default". */
  providers: z.array(z.unknown()).optional(),
  tenants: z.array(z.strictObject({ id: idSchema, providers: z.array(z.unknown()) })).optional(),
  /** Several instances acting as one through Redis; without it everything stays in-process. */
  cluster: clusterSchema.optional(),
});

export interface AppConfig {
  server: ServerConfig;
  /** Undefined: no caller authentication, everyone gets the default tenant. */
  auth: AuthConfig | undefined;
  tenants: TenantConfig[];
  /**
   * `cluster`, its secrets resolved: the instances sharing it act as one (CONTRACT.md "Running
   * several instances"). Absent: one process with in-memory state. Holds secrets: never log it.
   */
  cluster?: ClusterConfig | undefined;
}

export interface LoadConfigOptions {
  /** `--config FILE`; wins over BALANCE_API_CONFIG. */
  configPath?: string | undefined;
  /** `--port N`; wins over PORT and the file. */
  port?: number | undefined;
  /** `--host H`; wins over HOST and the file. */
  host?: string | undefined;
  env?: NodeJS.ProcessEnv;
}

/**
 * The configuration file named by `--config` or BALANCE_API_CONFIG, or undefined when neither is
 * given (the caller then runs the sandbox). Throws ConfigError listing every problem.
 */
export function loadConfigFromEnvironment(options: LoadConfigOptions): AppConfig | undefined {
  const env = options.env ?? process.env;
  const path = options.configPath ?? (env.BALANCE_API_CONFIG || undefined);
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the configuration file (${errorCode(error)})`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(path, [`the file is not valid JSON (${whereJsonBreaks(text)})`]);
  }
  const config = parseConfig(json, { source: path, env, baseDir: dirname(resolve(path)) });
  return applyServerOverrides(config, {
    env,
    port: options.port,
    host: options.host,
    source: path,
  });
}

/** PORT and HOST from the environment, then `--port` and `--host`, override the file's server section. */
export function applyServerOverrides(
  config: AppConfig,
  options: {
    /** Default process.env. */
    env?: NodeJS.ProcessEnv;
    /** `--port`; default none. */
    port?: number | undefined;
    /** `--host`; default none. */
    host?: string | undefined;
    /** Named in messages; default "environment". */
    source?: string;
  },
): AppConfig {
  const env = options.env ?? process.env;
  const server = { ...config.server };
  const problems: string[] = [];
  if (env.HOST) server.host = env.HOST;
  if (env.PORT) {
    const port = Number(env.PORT);
    if (/^\d+$/.test(env.PORT) && port <= 65_535) server.port = port;
    // Not echoed: a value in the wrong variable may be a secret.
    else problems.push('PORT: expected a port number from 0 to 65535');
  }
  if (options.port !== undefined) server.port = options.port;
  if (options.host !== undefined) server.host = options.host;
  if (problems.length > 0) throw new ConfigError(options.source ?? 'environment', problems);
  return { ...config, server };
}

export interface ParseConfigOptions extends ConfigSources {
  /** Named in messages: the file's path. */
  source: string;
}

/** Validates a parsed configuration document and resolves its secrets. */
export function parseConfig(json: unknown, options: ParseConfigOptions): AppConfig {
  const problems: string[] = [];
  const top = fileSchema.safeParse(json);
  if (!top.success) problems.push(...top.error.issues.map((issue) => describeIssue(issue, json)));
  const document = (typeof json === 'object' && json !== null ? json : {}) as {
    providers?: unknown;
    tenants?: unknown;
  };
  const tenants = parseTenants(document, options, problems);
  const auth = top.success
    ? resolveAuth(top.data.auth, tenants, options.baseDir, problems)
    : undefined;
  if (problems.length > 0 || !top.success) throw new ConfigError(options.source, problems);
  if (
    auth === undefined &&
    tenants.length > 0 &&
    !tenants.some((t) => t.id === DEFAULT_TENANT_ID)
  ) {
    throw new ConfigError(options.source, [
      'auth: is required when there is no default tenant (top-level providers): without it no caller can be mapped to a tenant',
    ]);
  }
  const server = resolveServer(top.data.server, options, problems);
  const cluster = resolveCluster(top.data.cluster, options, problems);
  if (problems.length > 0) throw new ConfigError(options.source, problems);
  // Without the section the configuration is exactly what it was before clusters existed.
  return cluster === undefined ? { server, auth, tenants } : { server, auth, tenants, cluster };
}
