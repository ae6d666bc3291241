import { isDeepStrictEqual } from 'node:util';
import { createCallerAuthenticator, type ReloadableAuthenticator } from './caller-auth.js';
import type { AppConfig } from './config/load.js';
import { ConfigError } from './config/messages.js';
import type { LiveHub } from './live/hub.js';
import { describeUnexpectedError, type Logger } from './logger.js';
import type { AppRuntime, ProviderRuntime, RuntimeChanges } from './tenants.js';
import { isRecord } from './upstream/json.js';

/**
 * Reload without restart (SIGHUP): the configuration file is read and validated again, whole, and
 * only then applied; providers whose resolved configuration is identical keep everything they
 * have, changed ones start fresh, removed ones end their subscriptions. Caller authentication
 * reloads too; the other sections (`server`, and `cluster`) are read at start only.
 */

/** How one reload ended: applied, or refused with nothing changed. */
export type ReloadOutcome = 'ok' | 'refused';

/** The sections of the configuration a reload applies; any other needs a restart. */
const RELOADED_SECTIONS: ReadonlySet<string> = new Set(['tenants', 'auth']);

export interface ConfigReloaderOptions {
  /** The configuration running now. */
  config: AppConfig;
  /**
   * Reads and validates the configuration again, as at start: throws a ConfigError listing every
   * problem.
   */
  load: () => AppConfig;
  /**
   * More checks of the configuration a reload would run (the new providers and `auth` with the
   * running `server`), as at start; throws a ConfigError. Default none.
   */
  check?: ((config: AppConfig) => void) | undefined;
  runtime: AppRuntime;
  /** The subscriptions' pollers: moved to a changed provider's new runtime, ended for a removed one. */
  hub: LiveHub;
  /** What the server authenticates callers with; replaced when `auth` or the tenants change. */
  authenticator: ReloadableAuthenticator;
  log: Logger;
  /** Called once per `reload()` with its outcome (the reloads counter); default none. */
  onReload?: ((outcome: ReloadOutcome) => void) | undefined;
}

/** What one applied reload changed. */
export interface ReloadSummary {
  providers: RuntimeChanges;
  /** Whether caller authentication was rebuilt (`auth` or the set of tenants changed). */
  authReloaded: boolean;
  /** Settings that changed in the file but need a restart: `server.port`, `cluster`, ... */
  needRestart: string[];
}

export interface ConfigReloader {
  /** The configuration in effect: the file's providers and `auth`, the start's other sections. */
  readonly config: AppConfig;
  /**
   * Reads the configuration again and applies it, or refuses it (logged, with one line per
   * problem) and changes nothing. Never throws. What SIGHUP calls.
   */
  reload(): ReloadOutcome;
  /** Applies a configuration that is already validated (and checked). */
  apply(next: AppConfig): ReloadSummary;
}

export function createConfigReloader(options: ConfigReloaderOptions): ConfigReloader {
  const { runtime, hub, authenticator, log } = options;
  let running = options.config;

  /** The running configuration with the file's reloadable sections. */
  function effective(next: AppConfig): AppConfig {
    return { ...running, tenants: next.tenants, auth: next.auth };
  }

  function apply(next: AppConfig): ReloadSummary {
    const config = effective(next);
    const tenantIds = (of: AppConfig) => new Set(of.tenants.map((tenant) => tenant.id));
    const authReloaded =
      !isDeepStrictEqual(running.auth, config.auth) ||
      !isDeepStrictEqual(tenantIds(running), tenantIds(config));
    // Everything that can fail is built before anything changes: the authenticator, then the
    // runtime, which swaps its tenants in one step at the end.
    const nextAuthenticator = authReloaded
      ? createCallerAuthenticator(config.auth, tenantIds(config))
      : undefined;
    const providers = runtime.reload(config.tenants);
    for (const { previous, next: replacement } of providers.changed) {
      hub.replaceProvider(previous, replacement);
    }
    for (const provider of providers.removed) hub.removeProvider(provider);
    if (nextAuthenticator !== undefined) authenticator.replace(nextAuthenticator);
    const needRestart = restartOnlyChanges(running, next);
    running = config;

    log.info(
      {
        added: providers.added.map(label),
        changed: providers.changed.map(({ next: replacement }) => label(replacement)),
        removed: providers.removed.map(label),
        unchanged: providers.unchanged.length,
        tenants: config.tenants.length,
        auth: authReloaded ? 'reloaded' : 'unchanged',
      },
      'configuration reloaded',
    );
    if (needRestart.length > 0) {
      // Names only: a value of the server section may be a path or an address worth keeping quiet.
      log.warn(
        { keys: needRestart },
        `configuration reloaded, but these settings need a restart to take effect (the running values are kept): ${needRestart.join(', ')}`,
      );
    }
    return { providers, authReloaded, needRestart };
  }

  function reload(): ReloadOutcome {
    let outcome: ReloadOutcome;
    try {
      const next = options.load();
      options.check?.(effective(next));
      apply(next);
      outcome = 'ok';
    } catch (error) {
      outcome = 'refused';
      if (error instanceof ConfigError) {
        // The messages of a refused start, one per problem: none echoes a value of the file.
        log.error(
          { source: error.source, problems: error.problems },
          'configuration reload refused: the configuration is not valid; the running configuration keeps serving',
        );
      } else {
        log.error(
          describeUnexpectedError(error),
          'configuration reload failed; the running configuration keeps serving',
        );
      }
    }
    options.onReload?.(outcome);
    return outcome;
  }

  return {
    get config() {
      return running;
    },
    reload,
    apply,
  };
}

/** `tenant/provider`, as the reload's log line names a provider. */
function label(provider: ProviderRuntime): string {
  return `${provider.tenantId}/${provider.id}`;
}

/**
 * The settings that differ between the running configuration and the file's in the sections a
 * reload does not apply: `server.<key>` for each key of the server section, the section's name for
 * any other (`cluster`), sorted.
 */
function restartOnlyChanges(running: AppConfig, next: AppConfig): string[] {
  const changed: string[] = [];
  const sections = new Set([...Object.keys(running), ...Object.keys(next)]);
  for (const section of sections) {
    if (RELOADED_SECTIONS.has(section)) continue;
    const before = (running as unknown as Record<string, unknown>)[section];
    const after = (next as unknown as Record<string, unknown>)[section];
    if (isDeepStrictEqual(before, after)) continue;
    if (section === 'server' && isRecord(before) && isRecord(after)) {
      for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (!isDeepStrictEqual(before[key], after[key])) changed.push(`server.${key}`);
      }
    } else {
      changed.push(section);
    }
  }
  return changed.sort();
}

/**
 * Calls `reload` on each SIGHUP (which would otherwise end the process). Returns the unsubscribe.
 * SIGHUP goes to the `balance-api serve` process itself: `npm start` runs it under npm, which does
 * not pass signals on.
 */
export function onReloadSignal(reload: () => void): () => void {
  const listener = () => reload();
  process.on('SIGHUP', listener);
  return () => process.off('SIGHUP', listener);
}
