import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createCallerAuthenticator } from '../../src/caller-auth.js';
import { type Cluster, createCluster } from '../../src/cluster/create-cluster.js';
import { type AppConfig, parseConfig } from '../../src/config/load.js';
import { createLiveHub, pollIntervalsOf } from '../../src/live/hub.js';
import type { Logger } from '../../src/logger.js';
import type { ProviderKind } from '../../src/providers/kinds.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { type BalanceServer, startBalanceServer } from '../../src/server.js';
import { type AppRuntime, createAppRuntime, type ProviderRuntime } from '../../src/tenants.js';
import { BUILT_IN_KINDS, demoConfigDocument, type GraphQLResult } from './app.js';
import { createManualTimers, type ManualTimers } from './live.js';

/** The environment variable the instances' configuration names for `cluster.tokenKey`. */
export const TOKEN_KEY_ENV = 'BALANCE_API_TOKEN_KEY';

/** 32 random bytes in base64: a `cluster.tokenKey` for one test's cluster. */
export function newTokenKey(): string {
  return randomBytes(32).toString('base64');
}

export interface ClusterSettings {
  /** `cluster.redis.url`. */
  redisUrl: string;
  /** `cluster.tokenKey`, base64; passed through the environment, as a deployment would. */
  tokenKey: string;
  /** `cluster.leaseMs`; default the contract's 10 000. */
  leaseMs?: number;
  /** `cluster.redis.timeoutMs`; default 250. */
  timeoutMs?: number;
  /** `cluster.keyPrefix`; default "balance-api:". */
  keyPrefix?: string;
}

/** The `cluster` section of a configuration document, as a user writes it. */
export function clusterSection(settings: ClusterSettings): Record<string, unknown> {
  return {
    redis: {
      url: settings.redisUrl,
      ...(settings.timeoutMs === undefined ? {} : { timeoutMs: settings.timeoutMs }),
    },
    tokenKey: { env: TOKEN_KEY_ENV },
    ...(settings.leaseMs === undefined ? {} : { leaseMs: settings.leaseMs }),
    ...(settings.keyPrefix === undefined ? {} : { keyPrefix: settings.keyPrefix }),
  };
}

export interface ClusterInstanceOptions extends ClusterSettings {
  sandbox: Sandbox;
  /**
   * The configuration document without its `cluster` section, from the sandbox's base URLs;
   * default the demo tenant of `kinds`.
   */
  configDocument?: (baseUrl: (kind: string) => string) => Record<string, unknown>;
  /** Default BUILT_IN_KINDS. */
  kinds?: readonly ProviderKind[];
  /** Pollers on timers the test moves (default); false: the real timers. */
  manualTimers?: boolean;
  log?: Logger;
}

/** One balance-api instance of a cluster: in-process, on a real port, with its own Redis link. */
export interface ClusterInstance {
  config: AppConfig;
  cluster: Cluster;
  runtime: AppRuntime;
  server: BalanceServer;
  /** The pollers' timers (manual unless the options said otherwise). */
  timers: ManualTimers;
  /** http://host:port/graphql */
  url: string;
  origin: string;
  provider(id: string, tenantId?: string): ProviderRuntime;
  /** One GraphQL request over a real socket. */
  query(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResult>;
  /**
   * Dies as a killed process would, as far as the others can tell: its Redis connections drop
   * at once (nothing given up, the lease left to expire), then its server stops.
   */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Starts one instance of a cluster on `sandbox` and waits until its Redis link is up. */
export async function startClusterInstance(
  options: ClusterInstanceOptions,
): Promise<ClusterInstance> {
  const { sandbox } = options;
  const baseUrl = (kind: string) => `${sandbox.origin}/${kind}`;
  const document =
    options.configDocument?.(baseUrl) ??
    demoConfigDocument(baseUrl, options.kinds ?? BUILT_IN_KINDS);
  const config = parseConfig(
    { ...document, cluster: clusterSection(options) },
    { source: 'test', env: { [TOKEN_KEY_ENV]: options.tokenKey }, baseDir: process.cwd() },
  );
  if (config.cluster === undefined) throw new Error('the cluster section did not parse');
  const cluster = createCluster(config.cluster, {
    now: sandbox.clock.now,
    log: options.log,
    // A test's Redis comes back in milliseconds: look for it often.
    probeIntervalMs: 20,
    maxReconnectDelayMs: 50,
  });
  if (!(await cluster.link.whenUp(5000))) throw new Error('Redis did not answer');
  const runtime = createAppRuntime({ config, now: sandbox.clock.now, log: options.log, cluster });
  const manual = createManualTimers();
  const server = await startBalanceServer({
    runtime,
    authenticator: createCallerAuthenticator(
      config.auth,
      new Set(config.tenants.map((tenant) => tenant.id)),
    ),
    server: { ...config.server, port: 0 },
    log: options.log,
    liveHub: createLiveHub({
      ...(options.manualTimers === false ? {} : { timers: manual }),
      random: () => 0.5,
      pollIntervalOf: pollIntervalsOf(config),
    }),
  });
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      await server.close();
      await runtime.close();
    })();
    return closed;
  };
  return {
    config,
    cluster,
    runtime,
    server,
    timers: manual,
    url: `${server.origin}/graphql`,
    origin: server.origin,
    provider(id, tenantId = 'default') {
      const provider = runtime.tenants.get(tenantId)?.byId.get(id);
      if (provider === undefined) throw new Error(`no provider ${tenantId}/${id}`);
      return provider;
    },
    async query(query, variables, headers) {
      const response = await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResult;
    },
    async kill() {
      cluster.close();
      await close();
    },
    close,
  };
}

/** Every key in Redis with its value as text (strings, and each field and value of hashes). */
export async function redisContents(redis: Redis): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for (const key of await redis.keys('*')) {
    const type = await redis.type(key);
    if (type === 'string') contents.set(key, (await redis.get(key)) ?? '');
    else if (type === 'hash') {
      const fields = await redis.hgetall(key);
      contents.set(key, Object.entries(fields).flat().join('\n'));
    } else contents.set(key, `(${type})`);
  }
  return contents;
}

/** A plain client of the test's Redis, to look at what the instances keep there. */
export function rawRedis(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  // Tests stop Redis on purpose: its connection errors are expected.
  redis.on('error', () => {});
  return redis;
}
