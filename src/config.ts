/**
 * The configuration's former single module, kept while imports move to `src/config/`: each name
 * is re-exported from the module of its concern.
 */
export { type AuthConfig, readJwksFile } from './config/auth.js';
export {
  type AppConfig,
  applyServerOverrides,
  type LoadConfigOptions,
  loadConfigFromEnvironment,
  type ParseConfigOptions,
  parseConfig,
} from './config/load.js';
export { ConfigError } from './config/messages.js';
export type { ProviderConfig, ProviderConfigOf } from './config/providers.js';
export { LOG_LEVELS, type QueryLimits, type ServerConfig } from './config/server.js';
export { DEFAULT_TENANT_ID, type TenantConfig } from './config/tenants.js';
export { PROVIDER_KINDS, type ProviderKind } from './providers/kinds.js';
