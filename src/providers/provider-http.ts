import type { ProviderKind } from '../config.js';
import { createUpstreamHttp, type UpstreamHttp } from '../upstream/http.js';
import type { AdapterOptions } from './adapter.js';

/**
 * The transport of one provider instance, as its configuration sets it: base URL, deadline,
 * retries and body cap around the shared dispatcher. Every kind's adapter sends through one.
 */
export function createProviderHttp<K extends ProviderKind>(
  options: AdapterOptions<K>,
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
  });
}
