import { afterEach, describe, expect, it } from 'vitest';
import { parseSandboxFault } from '../src/sandbox/faults.js';
import { createProviderCircuitBreaker } from '../src/upstream/circuit-breaker.js';
import { UpstreamError } from '../src/upstream/errors.js';
import {
  balanceCalls,
  demoConfigWith,
  loginCalls,
  startTestApp,
  type TestApp,
} from './helpers/app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const PIK = '{ provider(id: "pik-main") { accounts { id } } }';
const WALLET = '{ provider(id: "treasury") { balances { currency } } }';

async function warmApp(extra: Record<string, unknown> = {}, server?: Record<string, unknown>) {
  const configure = demoConfigWith(extra);
  app = await startTestApp({
    configDocument: (baseUrl) => ({ ...(server ? { server } : {}), ...configure(baseUrl) }),
  });
  await app.query(`${PIK.slice(0, -1)} w: provider(id: "treasury") { accounts { id } } }`);
  app.sandbox.clearCalls();
  return app;
}

function errorOf(result: Awaited<ReturnType<TestApp['query']>>) {
  expect(result.errors).toHaveLength(1);
  return result.errors?.[0];
}

describe('retries of reads', () => {
  it('retry a transient 503 and answer', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('503x1'));
    const result = await current.query(PIK);
    expect(result.errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([503, 200]);
  });

  it('retry a reset connection and answer', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('resetx1'));
    expect((await current.query(PIK)).errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([0, 200]);
  });

  it('retry a connection reset in the middle of the body and answer', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('reset-bodyx1'));
    expect((await current.query(PIK)).errors).toBeUndefined();
    expect(
      balanceCalls(current.sandbox, 'pik').map((call) => [call.status, call.fault ?? null]),
    ).toEqual([
      [200, 'reset-body'],
      [200, null],
    ]);
  });

  it("retry the wallet's POST /v2/balance, which is a read", async () => {
    const current = await warmApp();
    current.sandbox.setFault('wallet', parseSandboxFault('502x2'));
    expect((await current.query(WALLET)).errors).toBeUndefined();
    expect(
      balanceCalls(current.sandbox, 'wallet').map((call) => [call.method, call.status]),
    ).toEqual([
      ['POST', 502],
      ['POST', 502],
      ['POST', 200],
    ]);
  });

  it('stop after two retries', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('504'));
    const error = errorOf(await current.query(PIK));
    expect(error?.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', retryable: true });
    expect(error?.message).toBe('pik-main: the balance list failed upstream (HTTP 504)');
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([
      504, 504, 504,
    ]);
  });

  it('never retry what is not transient (500, 400, bad bodies)', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('500'));
    await current.query(PIK);
    current.sandbox.setFault('pik', parseSandboxFault('invalid-json'));
    await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([500, 200]);
  });

  it('follow maxRetries from the configuration', async () => {
    const current = await warmApp({ retry: { maxRetries: 0 } });
    current.sandbox.setFault('pik', parseSandboxFault('503'));
    await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);
  });

  it('never retry a login', async () => {
    app = await startTestApp();
    app.sandbox.setFault('pik', parseSandboxFault('503+login'));
    const error = errorOf(await app.query(PIK));
    expect(error?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    expect(balanceCalls(app.sandbox, 'pik')).toHaveLength(0);
  });
});

describe('Retry-After', () => {
  it('is honoured when within the cap: the retry waits that long, then answers', async () => {
    const current = await warmApp();
    current.sandbox.setFault('pik', parseSandboxFault('429:1x1'));
    const result = await current.query(PIK);
    expect(result.errors).toBeUndefined();
    const [limited, retried] = balanceCalls(current.sandbox, 'pik');
    expect([limited?.status, retried?.status]).toEqual([429, 200]);
    // The sandbox's own record of when each call arrived.
    expect((retried?.at ?? 0) - (limited?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('beyond the cap, returns UPSTREAM_RATE_LIMITED at once with retryAfterSeconds', async () => {
    const current = await warmApp({ retry: { maxRetries: 2, maxRetryAfterMs: 5000 } });
    current.sandbox.setFault('wallet', parseSandboxFault('429:6'));
    const error = errorOf(await current.query(WALLET));
    expect(error?.extensions).toEqual({
      code: 'UPSTREAM_RATE_LIMITED',
      providerId: 'treasury',
      retryable: true,
      retryAfterSeconds: 6,
    });
    expect(balanceCalls(current.sandbox, 'wallet')).toHaveLength(1);
  });
});

describe('the circuit breaker of each (tenant, provider)', () => {
  const breaker = {
    retry: { maxRetries: 0 },
    circuitBreaker: { failureThreshold: 2, cooldownMs: 300 },
  };

  it('opens after repeated failures, fails fast for the cool-down, then lets one probe through and closes', async () => {
    const current = await warmApp(breaker);
    current.sandbox.setFault('pik', parseSandboxFault('503'));
    await current.query(PIK);
    await current.query(PIK);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(2);

    // Open: no call upstream; the error says why, with the code of the failure that opened it.
    const fast = errorOf(await current.query(PIK));
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(2);
    expect(fast?.extensions).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      providerId: 'pik-main',
      retryable: true,
    });
    expect(fast?.message).toMatch(
      /^pik-main: not called, failing fast after 2 failed reads in a row; the next try is in about 1 s \(last failure: the balance list failed upstream \(HTTP 503\)\)$/,
    );

    // After the cool-down (on balance-api's clock), one probe among concurrent queries; it fails,
    // so the circuit stays open.
    current.sandbox.clock.advance(350);
    current.sandbox.clearCalls();
    await Promise.all([current.query(PIK), current.query(PIK), current.query(PIK)]);
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(1);

    // The provider recovers: the next probe succeeds and the circuit closes.
    current.sandbox.clearFaults();
    current.sandbox.clock.advance(350);
    expect((await current.query(PIK)).errors).toBeUndefined();
    expect((await current.query(PIK)).errors).toBeUndefined();
    expect(balanceCalls(current.sandbox, 'pik').map((call) => call.status)).toEqual([
      503, 200, 200,
    ]);
  });

  it('costs the other providers nothing while one fails all the time', async () => {
    // A short deadline: the hung reads end at it.
    const current = await warmApp({ ...breaker, timeoutMs: 300 });
    current.sandbox.setFault('pik', parseSandboxFault('hang'));
    for (let i = 0; i < 4; i += 1) {
      const result = await current.query('{ providers { id accounts { id } } }');
      const providers = result.data?.providers as { id: string; accounts: unknown[] | null }[];
      expect(
        providers.filter((provider) => provider.accounts === null).map((provider) => provider.id),
      ).toEqual(['pik-main']);
    }
    // Two reads waited for their deadline; the next two failed fast without a call.
    expect(balanceCalls(current.sandbox, 'pik')).toHaveLength(2);
    expect(balanceCalls(current.sandbox, 'merchant')).toHaveLength(4);
  });
});

describe('the circuit breaker on its own, on an injected clock', () => {
  function breakerAt() {
    const clock = { now: 0 };
    const breaker = createProviderCircuitBreaker({
      providerId: 'p',
      failureThreshold: 2,
      cooldownMs: 1000,
      now: () => clock.now,
    });
    let calls = 0;
    const read =
      (outcome: 'ok' | UpstreamError, until?: Promise<void>) => async (): Promise<string> => {
        calls += 1;
        await until;
        if (outcome === 'ok') return 'ok';
        throw outcome;
      };
    return { clock, breaker, read, calls: () => calls };
  }
  const down = () =>
    new UpstreamError('UPSTREAM_UNAVAILABLE', 'p: down (HTTP 503)', { providerId: 'p' });

  it('times the cool-down on that clock alone', async () => {
    const { clock, breaker, read, calls } = breakerAt();
    await expect(breaker.run(read(down()))).rejects.toThrow('p: down');
    await expect(breaker.run(read(down()))).rejects.toThrow('p: down');
    clock.now = 999;
    await expect(breaker.run(read('ok'))).rejects.toThrow(
      'p: not called, failing fast after 2 failed reads in a row; the next try is in about 1 s (last failure: down (HTTP 503))',
    );
    expect(calls()).toBe(2);
    clock.now = 1000;
    expect(await breaker.run(read('ok'))).toBe('ok');
    expect(calls()).toBe(3);
  });

  it('lets one probe through; the reads that came meanwhile wait for it and go by its outcome', async () => {
    const { clock, breaker, read, calls } = breakerAt();
    for (let i = 0; i < 2; i += 1) await breaker.run(read(down())).catch(() => {});
    clock.now = 1000;
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const probe = breaker.run(read(down(), held));
    const others = [breaker.run(read('ok')), breaker.run(read('ok'))];
    release();
    await expect(probe).rejects.toThrow('p: down');
    for (const other of others) await expect(other).rejects.toThrow('p: not called');
    expect(calls()).toBe(3);
  });

  it('is closed by a probe the provider answered, even with an error that is not about its health', async () => {
    const { clock, breaker, read, calls } = breakerAt();
    for (let i = 0; i < 2; i += 1) await breaker.run(read(down())).catch(() => {});
    clock.now = 1000;
    const refused = new UpstreamError('UPSTREAM_AUTH_FAILED', 'p: refused', { providerId: 'p' });
    await expect(breaker.run(read(refused))).rejects.toThrow('p: refused');
    expect(await breaker.run(read('ok'))).toBe('ok');
    expect(calls()).toBe(4);
  });
});

describe('the circuit breaker tells its status', () => {
  function breakerAt() {
    const clock = { now: 0 };
    const changes: [boolean, boolean][] = [];
    const breaker = createProviderCircuitBreaker({
      providerId: 'p',
      failureThreshold: 2,
      cooldownMs: 1000,
      now: () => clock.now,
      onOpenChange: (open, probeSucceeded) => changes.push([open, probeSucceeded]),
    });
    const fail = (code: 'UPSTREAM_UNAVAILABLE' | 'UPSTREAM_AUTH_FAILED') => () =>
      breaker
        .run(() => Promise.reject(new UpstreamError(code, 'p: failed', { providerId: 'p' })))
        .catch(() => {});
    const succeed = () => breaker.run(() => Promise.resolve('ok'));
    return { clock, breaker, changes, fail, succeed };
  }

  it('opens once, stays open through a failed probe, and closes on a probe that succeeds', async () => {
    const { clock, breaker, changes, fail, succeed } = breakerAt();
    await fail('UPSTREAM_UNAVAILABLE')();
    expect(breaker.isOpen()).toBe(false);
    await fail('UPSTREAM_UNAVAILABLE')();
    expect(breaker.isOpen()).toBe(true);
    expect(changes).toEqual([[true, false]]);
    // Failing fast, and a probe that fails: still open, nothing more to tell.
    await fail('UPSTREAM_UNAVAILABLE')();
    clock.now = 1000;
    await fail('UPSTREAM_UNAVAILABLE')();
    expect(breaker.isOpen()).toBe(true);
    expect(changes).toEqual([[true, false]]);
    clock.now = 2000;
    expect(await succeed()).toBe('ok');
    expect(breaker.isOpen()).toBe(false);
    expect(changes).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('says a probe answered with an error closed it without succeeding', async () => {
    const { clock, breaker, changes, fail } = breakerAt();
    await fail('UPSTREAM_UNAVAILABLE')();
    await fail('UPSTREAM_UNAVAILABLE')();
    clock.now = 1000;
    await fail('UPSTREAM_AUTH_FAILED')();
    expect(breaker.isOpen()).toBe(false);
    expect(changes).toEqual([
      [true, false],
      [false, false],
    ]);
  });
});

describe('deadlines', () => {
  it("a provider's timeoutMs bounds its whole read, retries included", async () => {
    const current = await warmApp({ timeoutMs: 300 });
    current.sandbox.setFault('pik', parseSandboxFault('hang'));
    const started = performance.now();
    const error = errorOf(await current.query(PIK));
    expect(error?.extensions?.code).toBe('UPSTREAM_TIMEOUT');
    expect(error?.message).toBe('pik-main: no answer within 300 ms');
    expect(performance.now() - started).toBeLessThan(300 + 1500);
  });

  it('the request deadline bounds a GraphQL request whatever the providers allow', async () => {
    const current = await warmApp({ timeoutMs: 30_000 }, { requestTimeoutMs: 400 });
    current.sandbox.setFault('merchant', parseSandboxFault('hang'));
    const started = performance.now();
    const result = await current.query('{ providers { id accounts { id } } }');
    expect(performance.now() - started).toBeLessThan(400 + 1500);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['UPSTREAM_TIMEOUT']);
    expect(result.data?.providers).toHaveLength(6);
  });
});
