import { createCallerAuthenticator, createReloadableAuthenticator } from './caller-auth.js';
import type { Cluster } from './cluster/create-cluster.js';
import {
  type AppConfig,
  applyServerOverrides,
  loadConfigFromEnvironment,
  parseConfig,
} from './config/load.js';
import { ConfigError } from './config/messages.js';
import { createLiveHub } from './live/hub.js';
import { createLogger, type Logger } from './logger.js';
import { isLoopbackHost } from './net.js';
import { createConfigReloader, onReloadSignal } from './reload.js';
import { startBalanceServer } from './server.js';
import { onShutdown } from './shutdown.js';
import { createAppRuntime } from './tenants.js';

export interface ServeOptions {
  configPath?: string | undefined;
  port?: number | undefined;
  host?: string | undefined;
}

/**
 * `balance-api serve`: the configured providers, or, with no configuration at all, an in-process
 * sandbox and its demo tenant so a new user sees balances at once.
 */
export async function serve(options: ServeOptions): Promise<void> {
  // Listened for from the start: SIGHUP's default action would end a process still starting.
  let hangup = () => {
    process.stdout.write('balance-api: SIGHUP while starting: nothing reloaded\n');
  };
  onReloadSignal(() => hangup());
  const load = () =>
    loadConfigFromEnvironment({
      configPath: options.configPath,
      port: options.port,
      host: options.host,
    });
  let config = load();
  // Only a configuration file is read again on SIGHUP; the sandbox has nothing to reload.
  const fromFile = config !== undefined;
  let closeSandbox: (() => Promise<void>) | undefined;
  if (config === undefined) {
    // Loaded only here: a configured server never loads simulator code.
    const [{ startSandbox }, { createDemoConfigDocument }] = await Promise.all([
      import('./sandbox/index.js'),
      import('./sandbox/demo.js'),
    ]);
    const sandbox = await startSandbox();
    closeSandbox = () => sandbox.close();
    const document = createDemoConfigDocument((kind) => `${sandbox.origin}/${kind}`);
    config = applyServerOverrides(
      // The sandbox always runs the development profile; only LOG_LEVEL is taken from outside.
      parseConfig(document, {
        source: 'built-in sandbox',
        env: { LOG_LEVEL: process.env.LOG_LEVEL },
        baseDir: process.cwd(),
      }),
      { port: options.port, host: options.host },
    );
    process.stdout.write(
      `balance-api: no configuration given (--config FILE or BALANCE_API_CONFIG); serving the built-in sandbox with demo data (${sandbox.origin}).\n`,
    );
  }
  refuseAnonymousOnOpenHost(config);
  const log = createLogger({ level: config.server.logLevel });
  const runtime = createAppRuntime({ config, log, cluster: await joinCluster(config, log) });
  // Swappable: a reload installs new keys and JWT settings under the listener.
  const authenticator = createReloadableAuthenticator(
    createCallerAuthenticator(config.auth, new Set(config.tenants.map((tenant) => tenant.id))),
  );
  // Each provider is polled at its runtime's pollIntervalMs, a reloaded one's included.
  const hub = createLiveHub();
  const server = await startBalanceServer({
    runtime,
    log,
    authenticator,
    server: config.server,
    liveHub: hub,
  });
  process.stdout.write(`balance-api: GraphiQL at ${server.origin}/graphql\n`);
  log.info(
    { origin: server.origin, profile: config.server.profile, tenants: config.tenants.length },
    'listening',
  );
  const reloader = fromFile
    ? createConfigReloader({
        config,
        // The file was there at start: loading it again never yields the sandbox.
        load: () => {
          const next = load();
          if (next === undefined) throw new ConfigError('environment', ['no configuration file']);
          return next;
        },
        check: refuseAnonymousOnOpenHost,
        runtime,
        hub,
        authenticator,
        log,
        // balance_api_config_reloads_total{outcome}
        onReload: (outcome) => runtime.instrumentation.configReloaded(outcome),
      })
    : undefined;
  let stopping = false;
  hangup = () => {
    if (stopping) {
      log.info({ signal: 'SIGHUP' }, 'shutting down: not reloading');
    } else if (reloader === undefined) {
      log.info(
        { signal: 'SIGHUP' },
        'nothing to reload: serving the built-in sandbox, not a configuration file (--config FILE or BALANCE_API_CONFIG)',
      );
    } else {
      log.info({ signal: 'SIGHUP' }, 'reloading the configuration');
      reloader.reload();
    }
  };
  const { shutdownDelayMs, drainTimeoutMs } = config.server;
  // The shutdown sequence: not ready at once, the listener closed after shutdownDelayMs, requests
  // in flight finished, what is left cut at the drain deadline, then the upstream connections and
  // the sandbox closed.
  onShutdown(async (signal) => {
    stopping = true;
    log.info({ signal, shutdownDelayMs, drainTimeoutMs }, 'draining');
    const { destroyed } = await server.shutdown();
    if (destroyed > 0) {
      log.warn({ connections: destroyed }, 'drain deadline passed: connections closed');
    } else {
      log.info('drained: every connection closed');
    }
    await runtime.close();
    await closeSandbox?.();
    log.info('stopped');
  });
}

/** How long a start waits for Redis before serving alone (it joins when Redis answers). */
const CLUSTER_START_WAIT_MS = 2000;

/**
 * The cluster of `config.cluster`, connected (or serving alone after CLUSTER_START_WAIT_MS, until
 * Redis answers); undefined without the section, and then nothing of the cluster or of its Redis
 * client is loaded.
 */
async function joinCluster(config: AppConfig, log: Logger): Promise<Cluster | undefined> {
  if (config.cluster === undefined) return undefined;
  const { createCluster } = await import('./cluster/create-cluster.js');
  const cluster = createCluster(config.cluster, { log });
  await cluster.link.whenUp(CLUSTER_START_WAIT_MS);
  return cluster;
}

/**
 * Without caller authentication anyone who reaches the port reads every balance: that is allowed
 * on loopback only, unless the configuration says `server.allowAnonymous`.
 */
export function refuseAnonymousOnOpenHost(config: AppConfig): void {
  const { host, allowAnonymous } = config.server;
  if (config.auth !== undefined || allowAnonymous || isLoopbackHost(host)) return;
  throw new ConfigError('server', [
    `host: refusing to serve on ${host} without caller authentication: anyone who can reach this port could read every balance. Add an "auth" section, listen on 127.0.0.1, or set server.allowAnonymous to true to accept it`,
  ]);
}
