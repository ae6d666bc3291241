import { createCallerAuthenticator } from './caller-auth.js';
import {
  type AppConfig,
  applyServerOverrides,
  loadConfigFromEnvironment,
  parseConfig,
} from './config/load.js';
import { ConfigError } from './config/messages.js';
import { createLiveHub, pollIntervalsOf } from './live/hub.js';
import { createLogger } from './logger.js';
import { isLoopbackHost } from './net.js';
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
  let config = loadConfigFromEnvironment({
    configPath: options.configPath,
    port: options.port,
    host: options.host,
  });
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
  const runtime = createAppRuntime({ config, log });
  const authenticator = createCallerAuthenticator(
    config.auth,
    new Set(config.tenants.map((tenant) => tenant.id)),
  );
  const server = await startBalanceServer({
    runtime,
    log,
    authenticator,
    server: config.server,
    liveHub: createLiveHub({ pollIntervalOf: pollIntervalsOf(config) }),
  });
  process.stdout.write(`balance-api: GraphiQL at ${server.origin}/graphql\n`);
  log.info(
    { origin: server.origin, profile: config.server.profile, tenants: config.tenants.length },
    'listening',
  );
  // The shutdown sequence: not ready at once, the listener closed after shutdownDelayMs, requests
  // in flight finished, what is left cut at the drain deadline, then the upstream connections and
  // the sandbox closed.
  const { shutdownDelayMs, drainTimeoutMs } = config.server;
  onShutdown(async (signal) => {
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

/**
 * Without caller authentication anyone who reaches the port reads every balance: that is allowed
 * on loopback only, unless the configuration says `server.allowAnonymous`.
 */
function refuseAnonymousOnOpenHost(config: AppConfig): void {
  const { host, allowAnonymous } = config.server;
  if (config.auth !== undefined || allowAnonymous || isLoopbackHost(host)) return;
  throw new ConfigError('server', [
    `host: refusing to serve on ${host} without caller authentication: anyone who can reach this port could read every balance. Add an "auth" section, listen on 127.0.0.1, or set server.allowAnonymous to true to accept it`,
  ]);
}
