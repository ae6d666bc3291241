import { Gauge, type Registry } from 'prom-client';
import type { RedisLink } from './redis-link.js';

/**
 * `balance_api_cluster_redis_up` (CONTRACT.md): 1 while this instance's Redis answers, 0 while it
 * works alone. Registered only when `cluster` is configured; read from the link at each scrape.
 */
export function registerRedisUpGauge(registry: Registry, link: RedisLink): Gauge {
  return new Gauge({
    name: 'balance_api_cluster_redis_up',
    help: 'Whether this instance reaches the cluster Redis (1) or works alone (0).',
    registers: [registry],
    collect() {
      this.set(link.isUp() ? 1 : 0);
    },
  });
}
