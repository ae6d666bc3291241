import { readFileSync } from 'node:fs';
import { createCallerAuthenticator } from '../../src/caller-auth.js';
import { type AppConfig, parseConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import type { ProviderKind } from '../../src/providers/kinds.js';
import {
  createDemoConfigDocument,
  createDemoSandboxData,
  type SandboxData,
} from '../../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { isLoginCall } from '../../src/sandbox/kinds.js';
import { type BalanceYoga, createBalanceYoga } from '../../src/server.js';
import { type AppRuntime, createAppRuntime } from '../../src/tenants.js';

/**
 * The five kinds the tests' demo tenant is made of, fixed: the exact totals, provider lists and
 * counts the tests pin are those of these kinds' demo providers, so adding a kind to the kinds
 * list changes none of them. A test about every kind uses `PROVIDER_KINDS` instead.
 */
export const BUILT_IN_KINDS = [
  'pik',
  'asset-accounts',
  'merchant',
  'wallet',
  'prepaid',
] as const satisfies readonly ProviderKind[];

/** One of the five kinds of `BUILT_IN_KINDS`. */
export type BuiltInKind = (typeof BUILT_IN_KINDS)[number];

/**
 * The demo tenant's configuration document for a sandbox at `baseUrl(kind)`, of `kinds`' demo
 * providers (default `BUILT_IN_KINDS`).
 */
export function demoConfigDocument(
  baseUrl: (kind: string) => string,
  kinds: readonly ProviderKind[] = BUILT_IN_KINDS,
): { providers: Record<string, unknown>[] } {
  return createDemoConfigDocument(baseUrl, kinds);
}

export interface GraphQLResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface TestApp {
  sandbox: Sandbox;
  runtime: AppRuntime;
  yoga: BalanceYoga;
  config: AppConfig;
  /** POSTs one GraphQL request through Yoga in-process; upstream calls still use real sockets. */
  query(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResult>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  data?: SandboxData;
  /**
   * Builds the configuration document from the sandbox's base URLs; default the demo tenant of
   * `kinds`.
   */
  configDocument?: (baseUrl: (kind: string) => string) => unknown;
  /**
   * The kinds whose demo providers the default configuration holds; default `BUILT_IN_KINDS`,
   * `PROVIDER_KINDS` for every kind. The sandbox runs every kind's simulator either way.
   */
  kinds?: readonly ProviderKind[];
  /** balance-api's clock; default the sandbox's, so both see the same time. */
  now?: () => number;
  /** Where balance-api logs; default nowhere. */
  log?: Logger;
  /** A sandbox to share (not closed with the app); default a new one. */
  sandbox?: Sandbox;
  /** The new sandbox's delay before every answer; default 0. */
  latencyMs?: number;
}

/** A sandbox on a real port, and balance-api's GraphQL handler configured against it. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownSandbox = options.sandbox === undefined;
  const sandbox =
    options.sandbox ??
    (await startSandbox({
      data: options.data ?? createDemoSandboxData(),
      latencyMs: options.latencyMs ?? 0,
    }));
  const baseUrl = (kind: string) => `${sandbox.origin}/${kind}`;
  const kinds = options.kinds ?? BUILT_IN_KINDS;
  const document = (options.configDocument ?? ((url) => demoConfigDocument(url, kinds)))(baseUrl);
  const config = parseConfig(document, { source: 'test', env: {}, baseDir: process.cwd() });
  const runtime = createAppRuntime({
    config,
    now: options.now ?? sandbox.clock.now,
    log: options.log,
  });
  const authenticator = createCallerAuthenticator(
    config.auth,
    new Set(config.tenants.map((tenant) => tenant.id)),
  );
  const yoga = createBalanceYoga({
    runtime,
    authenticator,
    server: config.server,
    log: options.log,
  });
  return {
    sandbox,
    runtime,
    yoga,
    config,
    async query(query, variables, headers) {
      const response = await yoga.fetch('http://balance-api.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResult;
    },
    async close() {
      await runtime.close();
      if (ownSandbox) await sandbox.close();
    },
  };
}

/** The sandbox's recorded balance reads (logins excluded) of one kind. */
export function balanceCalls(sandbox: Sandbox, kind: ProviderKind) {
  return sandbox.calls(kind).filter((call) => !isLoginCall(kind, call.path));
}

/** The sandbox's recorded logins of one kind. */
export function loginCalls(sandbox: Sandbox, kind: ProviderKind) {
  return sandbox.calls(kind).filter((call) => isLoginCall(kind, call.path));
}

/** The dashboard operation of schema/operations/, as GraphiQL and the benchmark run it. */
export const DASHBOARD_QUERY = readFileSync(
  new URL('../../schema/operations/dashboard.graphql', import.meta.url),
  'utf8',
);

/**
 * The demo configuration of `kinds` (default `BUILT_IN_KINDS`) with every provider's settings
 * extended by `extra`.
 */
export function demoConfigWith(
  extra: Record<string, unknown>,
  kinds: readonly ProviderKind[] = BUILT_IN_KINDS,
) {
  return (baseUrl: (kind: string) => string) => ({
    providers: demoConfigDocument(baseUrl, kinds).providers.map((provider) => ({
      ...provider,
      ...extra,
    })),
  });
}
