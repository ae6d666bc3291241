import type { ProviderConfigOf } from '../../config/providers.js';

/** `Authorization: Basic base64(devKey:devSecret)`, as the seed's example shows. */
export function prepaidAuthorization(config: ProviderConfigOf<'prepaid'>): string {
  const { devKey, devSecret } = config.credentials;
  return `Basic ${Buffer.from(`${devKey}:${devSecret}`, 'utf8').toString('base64')}`;
}
