import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { createProviderRef, providerDigest } from '../src/cluster/keys.js';
import {
  decodeProviderRead,
  decodeReadEvent,
  encodeProviderRead,
  encodeReadEvent,
} from '../src/cluster/read-codec.js';
import { createValueCodec } from '../src/cluster/value-codec.js';
import { clusterSchema, decodeTokenKey, resolveCluster } from '../src/config/cluster.js';
import { describeIssue } from '../src/config/messages.js';
import type { ProviderReadEvent } from '../src/provider-events.js';
import type { ProviderRead } from '../src/provider-reader.js';
import { normalizePikBalanceList } from '../src/providers/pik/normalize.js';
import { UpstreamError } from '../src/upstream/errors.js';
import { parseLosslessJson } from '../src/upstream/json.js';

const TOKEN_KEY = randomBytes(32);
const context = { purpose: 'session', tenantId: 'acme', providerId: 'pik-main' };

/** A read as the pik adapter makes it, with amounts a float would break and a lossless raw. */
function pikRead(): ProviderRead {
  const body = parseLosslessJson(
    JSON.stringify({
      code: 200,
      message: 'success',
      data: [
        {
          balanceNo: 'B-1',
          accountType: 'GLOBAL_ACCOUNT',
          accountName: 'Treasury',
          assetType: 'CRYPTO',
          currencyCode: 'usdt',
          currencyName: 'Tether',
          networkCode: 'TRC20',
          balance: '__BIG__',
          availableBalance: '__AVAILABLE__',
          frozenBalance: '__SMALL__',
          pendingBalance: '__ZEROS__',
          status: 'ACTIVE',
          updatedAt: '2026-12-02T10:00:00.000Z',
        },
      ],
    })
      // Numbers JSON.stringify cannot write: exactly as an upstream sends them.
      .replace('"__BIG__"', '9007199254740993.000000000000000001')
      .replace('"__AVAILABLE__"', '12386.00')
      .replace('"__SMALL__"', '1e-18')
      .replace('"__ZEROS__"', '0.00'),
  );
  return {
    accounts: normalizePikBalanceList(body),
    fetchedAt: new Date('2026-12-02T10:00:01.234Z'),
  };
}

/** A read as plain data, amounts as their text, to compare two reads exactly. */
function plain(read: ProviderRead): unknown {
  return JSON.parse(
    JSON.stringify(read, (_key, value) =>
      isLosslessNumber(value) ? `lossless:${value.value}` : value === undefined ? '(none)' : value,
    ),
  );
}

describe('the value codec', () => {
  it('opens what it sealed, only for the same purpose, tenant and provider', () => {
    const codec = createValueCodec(TOKEN_KEY);
    const sealed = codec.seal('canary-token-123', context);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('canary');
    expect(codec.open(sealed, context)).toBe('canary-token-123');
    expect(codec.open(sealed, { ...context, tenantId: 'globex' })).toBeUndefined();
    expect(codec.open(sealed, { ...context, providerId: 'pik-other' })).toBeUndefined();
    expect(codec.open(sealed, { ...context, purpose: 'read' })).toBeUndefined();
    expect(codec.open(sealed, { ...context, detail: 'USD' })).toBeUndefined();
  });

  it('uses a fresh nonce for every value: the same text never seals the same way twice', () => {
    const codec = createValueCodec(TOKEN_KEY);
    const first = codec.seal('same', context);
    const second = codec.seal('same', context);
    expect(first).not.toBe(second);
    const nonce = (sealed: string) => Buffer.from(sealed.slice(3), 'base64url').subarray(0, 12);
    expect(nonce(first).equals(nonce(second))).toBe(false);
  });

  it('refuses an altered value and a value sealed with another key', () => {
    const codec = createValueCodec(TOKEN_KEY);
    const sealed = codec.seal('canary-token-123', context);
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[14] = (bytes[14] ?? 0) ^ 1;
    expect(codec.open(`v1.${bytes.toString('base64url')}`, context)).toBeUndefined();
    expect(createValueCodec(randomBytes(32)).open(sealed, context)).toBeUndefined();
    expect(codec.open('v1.', context)).toBeUndefined();
    expect(codec.open('not sealed at all', context)).toBeUndefined();
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createValueCodec(randomBytes(16))).toThrow(
      'cluster.tokenKey: expected 32 bytes, received 16',
    );
  });
});

describe('key names', () => {
  const identity = {
    kind: 'pik',
    baseUrl: 'https://pik.example',
    credentials: { appId: 'app-1', appSecret: 'canary-secret-456' },
  };

  it('are <prefix><what>:<tenant>:<provider>:<keyed digest>, with no secret in them', () => {
    const codec = createValueCodec(TOKEN_KEY);
    const ref = createProviderRef('balance-api:', codec, 'acme', 'pik-main', identity);
    expect(ref.key('session')).toMatch(/^balance-api:session:acme:pik-main:[0-9a-f]{32}$/);
    expect(ref.key('session')).not.toContain('canary');
    expect(ref.key('read')).toBe(`balance-api:read:acme:pik-main:${ref.digest}`);
  });

  it('change with the base URL or any credential, not with the credentials order', () => {
    const codec = createValueCodec(TOKEN_KEY);
    const digest = providerDigest(codec, identity);
    expect(
      providerDigest(codec, {
        ...identity,
        credentials: { appSecret: 'canary-secret-456', appId: 'app-1' },
      }),
    ).toBe(digest);
    expect(providerDigest(codec, { ...identity, baseUrl: 'https://pik2.example' })).not.toBe(
      digest,
    );
    expect(
      providerDigest(codec, {
        ...identity,
        credentials: { ...identity.credentials, appSecret: 'rotated' },
      }),
    ).not.toBe(digest);
  });

  it('depend on tokenKey: without it a digest cannot be checked against guessed credentials', () => {
    expect(providerDigest(createValueCodec(randomBytes(32)), identity)).not.toBe(
      providerDigest(createValueCodec(TOKEN_KEY), identity),
    );
  });
});

describe('the read codec', () => {
  it('gives back the same read: exact amounts and scales, fetchedAt, lossless raw', () => {
    const read = pikRead();
    const text = encodeProviderRead(read);
    const back = decodeProviderRead(text);
    expect(back).toBeDefined();
    expect(plain(back as ProviderRead)).toEqual(plain(read));
    const balance = back?.accounts[0]?.balances[0];
    expect(balance?.total.toString()).toBe('9007199254740993.000000000000000001');
    expect(balance?.available.toString()).toBe('12386.00');
    expect(balance?.components.map((c) => [c.kind, c.amount.toString()])).toEqual(
      read.accounts[0]?.balances[0]?.components.map((c) => [c.kind, c.amount.toString()]),
    );
    expect(back?.fetchedAt.toISOString()).toBe('2026-12-02T10:00:01.234Z');
    // The raw record's numbers keep their digits, as the upstream sent them.
    const raw = balance?.raw as Record<string, unknown>;
    expect(isLosslessNumber(raw.balance) && raw.balance.value).toBe(
      '9007199254740993.000000000000000001',
    );
    // No amount travels as a JSON number: only the raw record has numbers.
    const envelope = JSON.parse(text.replace(/"raw":\{[^}]*\}/g, '"raw":null'));
    expect(JSON.stringify(envelope)).not.toMatch(/:\s*-?\d/);
  });

  it('keeps a stale read stale, and treats text it did not write as absent', () => {
    const read = { ...pikRead(), stale: true };
    expect(decodeProviderRead(encodeProviderRead(read))?.stale).toBe(true);
    expect(decodeProviderRead('{"v":"2"}')).toBeUndefined();
    expect(decodeProviderRead('{"v":"1","fetchedAt":"x","accounts":[]}')).toBeUndefined();
    expect(
      decodeProviderRead(
        encodeProviderRead(read).replace('9007199254740993.000000000000000001', '12abc'),
      ),
    ).toBeUndefined();
    expect(decodeProviderRead('not json')).toBeUndefined();
  });

  it('gives back read events: a success with its currencies, a failure with its code', () => {
    const ok: ProviderReadEvent = {
      ok: true,
      currencies: ['USDT'],
      read: pikRead(),
      stale: false,
    };
    const back = decodeReadEvent(encodeReadEvent(ok), 'pik-main');
    expect(back?.ok).toBe(true);
    expect(plain((back as { read: ProviderRead }).read)).toEqual(plain(ok.read));
    expect(back && { ...back, read: undefined }).toEqual({
      ok: true,
      currencies: ['USDT'],
      stale: false,
      read: undefined,
    });

    const failed: ProviderReadEvent = {
      ok: false,
      currencies: null,
      at: new Date('2026-12-02T10:00:02.000Z'),
      error: new UpstreamError('UPSTREAM_RATE_LIMITED', 'pik-main: the provider asked to wait', {
        providerId: 'pik-main',
        status: 429,
        retryAfterSeconds: 30,
      }),
    };
    const error = decodeReadEvent(encodeReadEvent(failed), 'pik-main');
    expect(error?.ok).toBe(false);
    if (error?.ok !== false) return;
    expect(error.at.toISOString()).toBe('2026-12-02T10:00:02.000Z');
    expect(error.currencies).toBeNull();
    expect(error.error).toBeInstanceOf(UpstreamError);
    expect({
      code: error.error.code,
      message: error.error.message,
      status: error.error.status,
      retryAfterSeconds: error.error.retryAfterSeconds,
      retryable: error.error.retryable,
      providerId: error.error.providerId,
    }).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      message: 'pik-main: the provider asked to wait',
      status: 429,
      retryAfterSeconds: 30,
      retryable: true,
      providerId: 'pik-main',
    });
  });
});

describe('the cluster section of the configuration', () => {
  const key = randomBytes(32).toString('base64');
  const sources = { env: {} as NodeJS.ProcessEnv, baseDir: '/nonexistent' };

  function resolve(section: unknown, env: NodeJS.ProcessEnv = {}, baseDir = '/nonexistent') {
    const parsed = clusterSchema.safeParse(section);
    if (!parsed.success) {
      return {
        config: undefined,
        problems: parsed.error.issues.map((issue) => describeIssue(issue, section)),
      };
    }
    const problems: string[] = [];
    const config = resolveCluster(parsed.data, { env, baseDir }, problems);
    return { config, problems };
  }

  it('has the contract defaults and resolves its secrets from the environment or a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cluster-config-'));
    writeFileSync(join(dir, 'token-key'), `${key}\n`);
    const { config, problems } = resolve(
      { redis: { url: { env: 'REDIS_URL' } }, tokenKey: { file: 'token-key' } },
      { REDIS_URL: 'redis://:canary-password@127.0.0.1:6379/0' },
      dir,
    );
    expect(problems).toEqual([]);
    expect(config?.redis).toEqual({
      url: 'redis://:canary-password@127.0.0.1:6379/0',
      timeoutMs: 250,
    });
    expect(config?.keyPrefix).toBe('balance-api:');
    expect(config?.leaseMs).toBe(10_000);
    expect(config?.tokenKey.equals(Buffer.from(key, 'base64'))).toBe(true);
  });

  it('accepts rediss:// and a key written without padding or in the URL-safe alphabet', () => {
    const urlSafe = Buffer.from(key, 'base64').toString('base64url');
    const { config, problems } = resolve({
      redis: { url: 'rediss://redis.example:6380', timeoutMs: 100 },
      tokenKey: urlSafe,
      keyPrefix: 'prod:',
      leaseMs: 5000,
    });
    expect(problems).toEqual([]);
    expect(config?.tokenKey.equals(Buffer.from(key, 'base64'))).toBe(true);
    expect(config?.redis.timeoutMs).toBe(100);
    expect(config?.keyPrefix).toBe('prod:');
  });

  it('requires redis.url and tokenKey, and refuses unknown keys', () => {
    expect(resolve({}).problems).toEqual(['redis: is required', 'tokenKey: is required']);
    expect(resolve({ redis: { url: 'redis://x', timeout: 5 }, tokenKey: key }).problems).toEqual([
      'redis.timeout: unknown key',
    ]);
  });

  it('says what a URL or key should be, never echoing the value', () => {
    const cases: [unknown, string][] = [
      [
        { redis: { url: 'http://canary-password@redis.example' }, tokenKey: key },
        'cluster.redis.url: expected a redis:// or rediss:// URL, received a URL of another scheme',
      ],
      [
        { redis: { url: 'canary password' }, tokenKey: key },
        'cluster.redis.url: expected a redis:// or rediss:// URL, received text that is not a URL',
      ],
      [
        { redis: { url: 'redis://x' }, tokenKey: 'canary-not-a-key!' },
        'cluster.tokenKey: expected 32 random bytes in base64 (44 characters, as `openssl rand -base64 32` prints them), received text that is not base64',
      ],
      [
        { redis: { url: 'redis://x' }, tokenKey: randomBytes(16).toString('base64') },
        'cluster.tokenKey: expected 32 random bytes in base64 (44 characters, as `openssl rand -base64 32` prints them), received base64 of 16 bytes',
      ],
      [
        { redis: { url: { env: 'NO_SUCH_REDIS_URL' } }, tokenKey: key },
        'cluster.redis.url: environment variable NO_SUCH_REDIS_URL is not set',
      ],
    ];
    for (const [section, message] of cases) {
      const { problems } = resolve(section);
      expect(problems).toEqual([message]);
      expect(problems.join('\n')).not.toContain('canary');
    }
    expect(resolve({ redis: { url: 'redis://x', timeoutMs: 0 }, tokenKey: key }).problems).toEqual([
      'redis.timeoutMs: expected a number of at least 1, received 0',
    ]);
    expect(
      resolve({ redis: { url: 'redis://x' }, tokenKey: key, keyPrefix: 'a b' }).problems,
    ).toEqual(['keyPrefix: expected 1 to 100 visible ASCII characters (no spaces)']);
    expect(sources.env).toEqual({});
  });

  it('decodes exactly 32 bytes', () => {
    expect(decodeTokenKey(key)).toBeInstanceOf(Buffer);
    expect(decodeTokenKey(`${key.slice(0, -1)}`)).toBeInstanceOf(Buffer);
    expect(typeof decodeTokenKey(randomBytes(33).toString('base64'))).toBe('string');
    expect(typeof decodeTokenKey('')).toBe('string');
  });
});
