import { createUpstreamHttp, type UpstreamHttp } from '../upstream/http.js';
import type { AdapterOptions } from './adapter.js';

/**
 * The transport of one provider instance, as its configuration sets it: base URL, per-call
 * deadline, retries and body cap around the shared dispatcher. Every provider is read through one;
 * the provider reader bounds it by each read's deadline.
 */
export function createProviderHttp(
  options: Pick<AdapterOptions, 'config' | 'dispatcher' | 'log' | 'observer'>,
): UpstreamHttp {
  const { config } = options;
  return createUpstreamHttp({
    providerId: config.id,
    baseUrl: config.baseUrl,
    dispatcher: options.dispatcher,
    timeoutMs: config.timeoutMs,
    maxResponseBytes: config.maxResponseBytes,
    retry: config.retry,
    log: options.log,
    observer: options.observer,
  });
}
