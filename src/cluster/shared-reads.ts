import type { ProviderRead } from '../provider-reader.js';
import type { ClusterProviderRef } from './keys.js';
import { decodeProviderRead, encodeProviderRead } from './read-codec.js';
import { luaScript, type RedisLink, type RedisOutcome } from './redis-link.js';
import type { ValueCodec } from './value-codec.js';

/**
 * One (tenant, provider)'s recent successful reads, shared by the cluster for the freshness window
 * (`cacheTtlMs`) and the stale-if-error window (`staleIfErrorMs`): a read by any instance serves
 * all within them, `fetchedAt` still the time the provider answered it.
 *
 * A read is kept by its shape, the reader's key of the currencies it covered: "*" for every
 * currency, otherwise the folded codes joined by ",". They sit in one Redis hash per provider,
 * each value `<fetchedAt ms>.<sealed read>` (the time in clear lets Redis keep the newest read of
 * a shape and drop the oldest shapes beyond the bound, never opening one); the hash expires a
 * window after its last write. Ages are judged on the instances' clocks, as the reader does.
 */
export interface SharedReads {
  /** A read of every currency or of exactly `shape`, younger than `maxAgeMs` (cacheTtlMs). */
  fresh(shape: string, maxAgeMs: number): Promise<RedisOutcome<ProviderRead | undefined>>;
  /**
   * The newest read no older than `maxAgeMs` (staleIfErrorMs) that covers `shape`: a read of
   * every currency covers any shape, a narrower one only its subsets.
   */
  covering(shape: string, maxAgeMs: number): Promise<RedisOutcome<ProviderRead | undefined>>;
  /**
   * Shares a successful read of `shape` for `windowMs` (the longer of the two windows). A read
   * older than the one kept for the shape does not replace it.
   */
  store(shape: string, read: ProviderRead, windowMs: number): Promise<RedisOutcome<boolean>>;
}

export interface SharedReadsOptions {
  link: RedisLink;
  codec: ValueCodec;
  ref: ClusterProviderRef;
  /** The app's clock (ages); default Date.now. */
  now?: () => number;
  /** The most shapes kept per provider (clients choose currency sets); default 32. */
  maxShapes?: number;
}

/**
 * HSET KEYS[1] ARGV[1] ARGV[2] unless the shape holds a newer read; then at most ARGV[5] shapes
 * (the oldest go) and the hash expires ARGV[4] ms from now. ARGV[3]: the new read's fetchedAt.
 */
const STORE_READ = luaScript(`
local at = tonumber(ARGV[3])
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local currentAt = tonumber(string.match(current, '^(%-?%d+)%.'))
  if currentAt and currentAt > at then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local max = tonumber(ARGV[5])
if redis.call('HLEN', KEYS[1]) > max then
  local all = redis.call('HGETALL', KEYS[1])
  local shapes = {}
  for i = 1, #all, 2 do
    shapes[#shapes + 1] = { all[i], tonumber(string.match(all[i + 1], '^(%-?%d+)%.')) or 0 }
  end
  table.sort(shapes, function(a, b) return a[2] < b[2] end)
  for i = 1, #shapes - max do redis.call('HDEL', KEYS[1], shapes[i][1]) end
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`);

export function createSharedReads(options: SharedReadsOptions): SharedReads {
  const { link, codec, ref } = options;
  const now = options.now ?? Date.now;
  const maxShapes = options.maxShapes ?? 32;
  const key = ref.key('read');
  const contextOf = (shape: string) => readContext(ref, shape);

  const decode = (shape: string, stored: string | null | undefined) =>
    openSharedRead(codec, ref, shape, stored);

  return {
    fresh(shape, maxAgeMs) {
      const shapes = shape === '*' ? ['*'] : ['*', shape];
      return link.run(async (redis) => {
        const stored = await redis.hmget(key, ...shapes);
        const at = now();
        for (const [index, candidate] of shapes.entries()) {
          const read = decode(candidate, stored[index]);
          if (read !== undefined && at - read.fetchedAt.getTime() < maxAgeMs) return read;
        }
        return undefined;
      });
    },
    covering(shape, maxAgeMs) {
      return link.run(async (redis) => {
        const stored = await redis.hgetall(key);
        const at = now();
        let best: ProviderRead | undefined;
        for (const [candidate, value] of Object.entries(stored)) {
          if (!covers(candidate, shape)) continue;
          const read = decode(candidate, value);
          if (read === undefined || at - read.fetchedAt.getTime() > maxAgeMs) continue;
          if (best === undefined || read.fetchedAt > best.fetchedAt) best = read;
        }
        return best;
      });
    },
    store(shape, read, windowMs) {
      const fetchedAt = read.fetchedAt.getTime();
      const value = `${fetchedAt}.${codec.seal(encodeProviderRead(read), contextOf(shape))}`;
      return link.run(
        async (redis) =>
          (await STORE_READ.run(
            redis,
            [key],
            [shape, value, fetchedAt, Math.max(1, Math.ceil(windowMs)), maxShapes],
          )) === 1,
      );
    },
  };
}

/** What a read of `shape` is sealed for. */
function readContext(ref: ClusterProviderRef, shape: string) {
  return { purpose: 'read', tenantId: ref.tenantId, providerId: ref.providerId, detail: shape };
}

/**
 * A value of the reads hash (`<fetchedAt ms>.<sealed read>`) opened, for the shape it is kept
 * under; undefined when absent or not opened (altered, another key or version).
 */
export function openSharedRead(
  codec: ValueCodec,
  ref: ClusterProviderRef,
  shape: string,
  stored: string | null | undefined,
): ProviderRead | undefined {
  if (stored === null || stored === undefined) return undefined;
  const dot = stored.indexOf('.');
  const plain = dot < 0 ? undefined : codec.open(stored.slice(dot + 1), readContext(ref, shape));
  return plain === undefined ? undefined : decodeProviderRead(plain);
}

/** Whether a read of shape `kept` answers a question about shape `asked` ("*": every currency). */
export function covers(kept: string, asked: string): boolean {
  if (kept === '*') return true;
  if (asked === '*') return false;
  const coverage = new Set(kept.split(','));
  return asked.split(',').every((currency) => coverage.has(currency));
}
