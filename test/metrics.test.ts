import { createHash } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallerAuthenticator } from '../src/caller-auth.js';
import { parseConfig } from '../src/config/load.js';
import { createInstrumentation } from '../src/observe.js';
import type { SandboxFault } from '../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import {
  BUILT_IN_KINDS,
  type BuiltInKind,
  DASHBOARD_QUERY,
  demoConfigDocument,
  startTestApp,
  type TestApp,
} from './helpers/app.js';
import { canaryCredentials, canaryProviders, canarySandboxData } from './helpers/canaries.js';
import { type LiveApp, postGraphQL, startLiveApp, subscribeSse } from './helpers/live.js';
import {
  type MetricSample,
  parseMetrics,
  samplesOf,
  sampleValue,
  scrape,
} from './helpers/metrics.js';

/**
 * GET /metrics (CONTRACT.md "Operations" and its details): every metric of the table with exactly
 * its labels, who may scrape, what the labels may hold, and the outcome of each upstream call as
 * the contract codes name it, after the sandbox's faults.
 */

/** The contract's table: each metric's labels (histograms: their series' own labels besides). */
const TABLE: Record<string, string[]> = {
  balance_api_graphql_requests_total: ['operation', 'status'],
  balance_api_graphql_request_duration_seconds: ['operation'],
  balance_api_upstream_requests_total: ['provider', 'kind', 'route', 'outcome'],
  balance_api_upstream_request_duration_seconds: ['provider', 'kind', 'route'],
  balance_api_upstream_logins_total: ['provider', 'kind', 'outcome'],
  balance_api_provider_reads_total: ['provider', 'kind', 'source'],
  balance_api_provider_up: ['provider', 'kind'],
  balance_api_circuit_open: ['provider', 'kind'],
  balance_api_subscriptions: [],
};
const HISTOGRAMS = new Set([
  'balance_api_graphql_request_duration_seconds',
  'balance_api_upstream_request_duration_seconds',
]);

/** The samples of one metric of the table, a histogram's series included. */
function seriesOf(samples: readonly MetricSample[], name: string): MetricSample[] {
  return samples.filter((sample) =>
    HISTOGRAMS.has(name)
      ? [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(sample.name)
      : sample.name === name,
  );
}

/** Label names of a sample, a histogram bucket's `le` aside, sorted. */
const labelNames = (sample: MetricSample) =>
  Object.keys(sample.labels)
    .filter((name) => !(name === 'le' && sample.name.endsWith('_bucket')))
    .sort();

const CANARY = 'canary4q';
const CREDENTIALS: Record<string, Record<string, string>> = canaryCredentials(CANARY);

const canaryData = () => canarySandboxData(CREDENTIALS);

/** The demo providers with canary credentials and `extra` settings, and `server` as given. */
function canaryConfig(extra: Record<string, unknown> = {}, server: Record<string, unknown> = {}) {
  return (baseUrl: (kind: string) => string) => ({
    server,
    providers: canaryProviders(baseUrl, CREDENTIALS, extra),
  });
}

const PROVIDERS = demoConfigDocument(() => 'http://unused.test').providers.map((provider) => ({
  id: provider.id as string,
  kind: provider.kind as BuiltInKind,
}));

/** The route of each kind's balance read, for a dashboard (every currency). */
const BALANCE_ROUTE: Record<BuiltInKind, string> = {
  pik: 'balanceList',
  'asset-accounts': 'balances',
  merchant: 'balances',
  wallet: 'balances',
  prepaid: 'balance',
};
/** The route of each kind's login, where it has one. */
const LOGIN_ROUTE: Partial<Record<BuiltInKind, string>> = {
  pik: 'login',
  'asset-accounts': 'login',
  merchant: 'session',
};

describe('GET /metrics', () => {
  let app: LiveApp;

  beforeAll(async () => {
    app = await startLiveApp({ data: canaryData(), configDocument: canaryConfig() });
  });
  afterAll(() => app?.close());

  it("shows every metric of the contract's table with exactly its labels, and Node's process metrics", async () => {
    const before = await scrape(app.server.origin);
    expect(before.status).toBe(200);
    expect(before.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    // No provider has been read: provider_up has no sample, no circuit is open.
    expect(samplesOf(before.samples, 'balance_api_provider_up')).toEqual([]);
    for (const { id, kind } of PROVIDERS) {
      expect(sampleValue(before.samples, 'balance_api_circuit_open', { provider: id, kind })).toBe(
        0,
      );
    }

    const { status, body } = await postGraphQL(app.url, DASHBOARD_QUERY);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();

    const { samples, text } = await scrape(app.server.origin);
    for (const [name, labels] of Object.entries(TABLE)) {
      const series = seriesOf(samples, name);
      expect(series.length, name).toBeGreaterThan(0);
      for (const sample of series) expect(labelNames(sample), sample.name).toEqual(labels.sort());
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(
      sampleValue(samples, 'balance_api_graphql_requests_total', {
        operation: 'Dashboard',
        status: '200',
      }),
    ).toBe(1);
    expect(
      sampleValue(samples, 'balance_api_graphql_request_duration_seconds_count', {
        operation: 'Dashboard',
      }),
    ).toBe(1);
    for (const { id, kind } of PROVIDERS) {
      const provider = { provider: id, kind };
      const route = BALANCE_ROUTE[kind];
      expect(
        sampleValue(samples, 'balance_api_upstream_requests_total', {
          ...provider,
          route,
          outcome: 'ok',
        }),
        id,
      ).toBe(1);
      expect(
        sampleValue(samples, 'balance_api_upstream_request_duration_seconds_count', {
          ...provider,
          route,
        }),
      ).toBe(1);
      const login = LOGIN_ROUTE[kind];
      expect(
        sampleValue(samples, 'balance_api_upstream_logins_total', { ...provider, outcome: 'ok' }),
      ).toBe(login === undefined ? undefined : 1);
      if (login !== undefined) {
        expect(
          sampleValue(samples, 'balance_api_upstream_requests_total', {
            ...provider,
            route: login,
            outcome: 'ok',
          }),
        ).toBe(1);
      }
      expect(
        sampleValue(samples, 'balance_api_provider_reads_total', {
          ...provider,
          source: 'upstream',
        }),
      ).toBe(1);
      expect(sampleValue(samples, 'balance_api_provider_up', provider)).toBe(1);
      expect(sampleValue(samples, 'balance_api_circuit_open', provider)).toBe(0);
    }
    expect(sampleValue(samples, 'balance_api_subscriptions')).toBe(0);
    // Both outcomes of a reload, at 0 until one happens.
    expect(sampleValue(samples, 'balance_api_config_reloads_total', { outcome: 'ok' })).toBe(0);
    expect(sampleValue(samples, 'balance_api_config_reloads_total', { outcome: 'refused' })).toBe(
      0,
    );
    // Node's process metrics, prom-client's defaults.
    expect(samples.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((sample) => sample.name === 'nodejs_heap_size_used_bytes')).toBe(true);
    // No cluster configured: no Redis gauge.
    expect(text).not.toContain('balance_api_cluster_redis_up');
  });

  it("has exactly prom-client's default process metrics", async () => {
    // prom-client's index here, in the test: it loads what the server must not (OpenTelemetry's API).
    const { collectDefaultMetrics, Registry } = await import('prom-client');
    const reference = new Registry();
    collectDefaultMetrics({ register: reference });
    const names = (await reference.getMetricsAsJSON()).map((metric) => metric.name).sort();
    const { text } = await scrape(app.server.origin);
    const ours = [...text.matchAll(/^# TYPE (\S+) /gm)]
      .map((match) => match[1] as string)
      .filter((name) => !name.startsWith('balance_api_'))
      .sort();
    expect(ours).toEqual(names);
  });

  it('names operations as they are named, anonymous without a name, other past the first 100, never by URL', async () => {
    await app.query('{ providers { id } }');
    await app.query('query Providers { providers { id } }');
    // A name the client sends beside a document that has none is not the operation's name.
    const get = await fetch(
      `${app.url}?query=${encodeURIComponent('{ providers { id } }')}&extensions=%7B%7D`,
      { headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' } },
    );
    expect(get.status).toBe(200);
    for (let index = 0; index < 100; index += 1) {
      await app.query(`query Many${index} { providers { id } }`);
    }
    const { samples } = await scrape(app.server.origin);
    const requests = samplesOf(samples, 'balance_api_graphql_requests_total');
    const count = (operation: string) =>
      sampleValue(samples, 'balance_api_graphql_requests_total', { operation, status: '200' });
    expect(count('anonymous')).toBe(2);
    expect(count('Providers')).toBe(1);
    // Dashboard, Providers and 98 of the Many: 100 names; the last two Many are `other`.
    expect(count('Many97')).toBe(1);
    expect(count('Many98')).toBeUndefined();
    expect(count('other')).toBe(2);
    const operations = new Set(requests.map((sample) => sample.labels.operation));
    expect(operations.size).toBe(102);
    for (const sample of samples) {
      for (const value of Object.values(sample.labels)) expect(value).not.toMatch(/[/?{}]/);
    }
  });

  it('counts active subscriptions, not connections', async () => {
    const subscription = await subscribeSse(
      app.url,
      'subscription { providerStatusChanged(providerIds: ["pik-main"]) { id } }',
    );
    const other = await subscribeSse(
      app.url,
      'subscription { providerStatusChanged(providerIds: ["sms"]) { id } }',
    );
    expect(subscription.status).toBe(200);
    expect(app.server.live.active()).toBe(2);
    expect(
      sampleValue((await scrape(app.server.origin)).samples, 'balance_api_subscriptions'),
    ).toBe(2);
    other.close();
    await other.ended;
    subscription.close();
    await subscription.ended;
    await expect.poll(() => app.server.live.active(), { interval: 5 }).toBe(0);
    expect(
      sampleValue((await scrape(app.server.origin)).samples, 'balance_api_subscriptions'),
    ).toBe(0);
  });
});

describe('the cluster gauge', () => {
  it('shows balance_api_cluster_redis_up, read at each scrape, once a cluster is watched', async () => {
    const instrumentation = createInstrumentation();
    const metrics = instrumentation.metrics;
    expect(await metrics?.render()).not.toContain('balance_api_cluster_redis_up');
    let up = true;
    instrumentation.watchClusterRedis(() => up);
    expect(
      sampleValue(parseMetrics((await metrics?.render()) ?? ''), 'balance_api_cluster_redis_up'),
    ).toBe(1);
    up = false;
    expect(
      sampleValue(parseMetrics((await metrics?.render()) ?? ''), 'balance_api_cluster_redis_up'),
    ).toBe(0);
  });
});

describe('provider reads by source', () => {
  it('counts reads from upstream, joined while under way, from the freshness window and stale', async () => {
    const app = await startLiveApp({
      data: canaryData(),
      latencyMs: 50,
      configDocument: canaryConfig({ cacheTtlMs: 60_000, staleIfErrorMs: 600_000 }),
    });
    try {
      // Two at once: the second joins the first's reads; a third is answered from the window.
      const [first, second] = await Promise.all([
        postGraphQL(app.url, DASHBOARD_QUERY),
        postGraphQL(app.url, DASHBOARD_QUERY),
      ]);
      expect([first.status, second.status]).toEqual([200, 200]);
      await postGraphQL(app.url, DASHBOARD_QUERY);
      const { samples } = await scrape(app.server.origin);
      for (const { id, kind } of PROVIDERS) {
        const provider = { provider: id, kind };
        for (const [source, count] of [
          ['upstream', 1],
          ['coalesced', 1],
          ['cache', 1],
        ] as const) {
          expect(
            sampleValue(samples, 'balance_api_provider_reads_total', { ...provider, source }),
            `${id} ${source}`,
          ).toBe(count);
        }
      }

      // Past the window, a failed read answered from an earlier one is stale.
      app.sandbox.clock.advance(61_000);
      app.sandbox.setFault('pik', { type: 'status', status: 500 });
      const stale = await postGraphQL(app.url, DASHBOARD_QUERY);
      app.sandbox.clearFaults();
      expect(stale.body.errors).toBeUndefined();
      const after = (await scrape(app.server.origin)).samples;
      const pik = { provider: 'pik-main', kind: 'pik' };
      expect(
        sampleValue(after, 'balance_api_provider_reads_total', { ...pik, source: 'stale' }),
      ).toBe(1);
      expect(
        sampleValue(after, 'balance_api_provider_reads_total', { ...pik, source: 'upstream' }),
      ).toBe(1);
      expect(sampleValue(after, 'balance_api_provider_up', pik)).toBe(0);
      expect(
        sampleValue(after, 'balance_api_upstream_requests_total', {
          ...pik,
          route: 'balanceList',
          outcome: 'UPSTREAM_UNAVAILABLE',
        }),
      ).toBe(1);
    } finally {
      await app.close();
    }
  });
});

const API_KEYS = { default: 'metrics-default-key-3c1d', acme: 'metrics-acme-key-8e2f' };
const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/** The demo tenant, and tenant "acme" with a wallet of its own, each with its API key. */
function twoTenants(metrics: Record<string, unknown>) {
  return (baseUrl: (kind: string) => string) => {
    const { server, providers } = canaryConfig({}, { metrics })(baseUrl);
    const wallet = providers.find((provider) => provider.kind === 'wallet');
    return {
      server,
      auth: {
        apiKeys: Object.entries(API_KEYS).map(([tenant, key]) => ({ tenant, sha256: digest(key) })),
      },
      providers,
      tenants: [{ id: 'acme', providers: [{ ...wallet, id: 'acme-wallet' }] }],
    };
  };
}

describe('tenants in metrics', () => {
  for (const tenantLabel of [false, true]) {
    it(
      tenantLabel
        ? 'labels every provider with its tenant when server.metrics.tenantLabel is true'
        : "never shows another tenant's providers, nor a tenant label, without tenantLabel",
      async () => {
        const app = await startLiveApp({
          data: canaryData(),
          configDocument: twoTenants({ tenantLabel }),
        });
        try {
          for (const [tenant, key] of Object.entries(API_KEYS)) {
            const { status } = await postGraphQL(app.url, DASHBOARD_QUERY, {
              authorization: `Bearer ${key}`,
            });
            expect(status, tenant).toBe(200);
          }
          // Not behind caller authentication: a scraper sends none.
          const { status, text, samples } = await scrape(app.server.origin);
          expect(status).toBe(200);
          const acme = samplesOf(samples, 'balance_api_provider_reads_total', {
            provider: 'acme-wallet',
          });
          if (!tenantLabel) {
            expect(text).not.toMatch(/acme|tenant=/);
            expect(
              sampleValue(samples, 'balance_api_provider_up', {
                provider: 'treasury',
                kind: 'wallet',
              }),
            ).toBe(1);
            return;
          }
          expect(acme.map((sample) => sample.labels)).toEqual([
            { tenant: 'acme', provider: 'acme-wallet', kind: 'wallet', source: 'upstream' },
          ]);
          expect(
            sampleValue(samples, 'balance_api_provider_up', {
              tenant: 'default',
              provider: 'treasury',
              kind: 'wallet',
            }),
          ).toBe(1);
          for (const sample of samples.filter((each) => 'provider' in each.labels)) {
            expect(sample.labels.tenant, sample.name).toMatch(/^(default|acme)$/);
          }
        } finally {
          await app.close();
        }
      },
    );
  }

  it('refuses tenantLabel with allowRemote on the main port, and a metrics host without a port', () => {
    const problems = (metrics: Record<string, unknown>) => {
      try {
        parseConfig(
          { server: { metrics }, providers: [] },
          { source: 'config.json', env: {}, baseDir: '.' },
        );
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    };
    expect(problems({ tenantLabel: true, allowRemote: true })).toEqual([
      "server.metrics.tenantLabel: refusing to show every tenant's providers to remote clients of the main port (allowRemote); serve metrics on a port of their own (server.metrics.port) instead",
    ]);
    expect(problems({ tenantLabel: true, allowRemote: true, port: 9464 })).toEqual([]);
    expect(problems({ host: '0.0.0.0' })).toEqual([
      'server.metrics.host: expected only with server.metrics.port (on the main port, metrics are served where the server listens)',
    ]);
    expect(
      parseConfig({ providers: [] }, { source: 'c', env: {}, baseDir: '.' }).server.metrics,
    ).toEqual({ enabled: true, allowRemote: false, tenantLabel: false });
  });
});

/** This machine's first address other than loopback, for a client that is not local. */
const EXTERNAL_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find(
    (address) => address !== undefined && address.family === 'IPv4' && !address.internal,
  )?.address;

describe('who may scrape', () => {
  let app: TestApp;
  const servers: BalanceServer[] = [];

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    for (const server of servers) await server.close();
    await app?.close();
  });

  async function serve(metrics: Record<string, unknown>, host = '127.0.0.1') {
    const config = parseConfig(
      { server: { metrics }, providers: [] },
      { source: 'test', env: {}, baseDir: '.' },
    );
    const server = await startBalanceServer({
      runtime: app.runtime,
      authenticator: createCallerAuthenticator(undefined, new Set(['default'])),
      server: { ...config.server, host, port: 0 },
    });
    servers.push(server);
    return server;
  }

  it.skipIf(EXTERNAL_ADDRESS === undefined)(
    'answers 403 to a client that is not on this machine, unless allowRemote',
    async () => {
      const closed = await serve({}, '0.0.0.0');
      const port = new URL(closed.origin).port;
      const remote = await fetch(`http://${EXTERNAL_ADDRESS}:${port}/metrics`);
      expect(remote.status).toBe(403);
      expect(await remote.text()).toContain('server.metrics.allowRemote');
      // The same port from loopback: served.
      expect((await scrape(`http://127.0.0.1:${port}`)).status).toBe(200);

      const open = await serve({ allowRemote: true }, '0.0.0.0');
      const openPort = new URL(open.origin).port;
      const scraped = await scrape(`http://${EXTERNAL_ADDRESS}:${openPort}`);
      expect(scraped.status).toBe(200);
      expect(scraped.text).toContain('balance_api_graphql_requests_total');
    },
  );

  it('serves metrics on server.metrics.port only when it is set', async () => {
    const server = await serve({ port: 0 });
    expect(server.metricsOrigin).toBeDefined();
    const metricsOrigin = server.metricsOrigin as string;
    expect(metricsOrigin).not.toBe(server.origin);
    const scraped = await scrape(metricsOrigin);
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('balance_api_upstream_requests_total');
    expect((await fetch(`${metricsOrigin}/graphql`)).status).toBe(404);
    expect((await scrape(server.origin)).status).toBe(404);
    await server.close();
    await expect(fetch(`${metricsOrigin}/metrics`)).rejects.toThrow();
  });

  it('answers 404 when server.metrics.enabled is false, and counts nothing', async () => {
    const off = await startTestApp({
      configDocument: (baseUrl) => ({
        server: { metrics: { enabled: false, port: 0 } },
        providers: demoConfigDocument(baseUrl).providers,
      }),
    });
    try {
      expect(off.runtime.instrumentation.metrics).toBeUndefined();
      // Tracing is off too: no provider has an observer, every hook is a check for undefined.
      expect(off.runtime.instrumentation.provider('default', 'pik-main', 'pik')).toBeUndefined();
      const server = await startBalanceServer({
        runtime: off.runtime,
        server: { ...off.config.server, port: 0 },
      });
      try {
        expect(server.metricsOrigin).toBeUndefined();
        expect((await scrape(server.origin)).status).toBe(404);
        expect((await postGraphQL(`${server.origin}/graphql`, '{ providers { id } }')).status).toBe(
          200,
        );
      } finally {
        await server.close();
      }
    } finally {
      await off.close();
    }
  });
});

/** The sandbox faults of the fault matrix, and the outcome each gives a provider's balance read. */
const FAULTS: { fault: SandboxFault; outcome: (kind: BuiltInKind) => string; calls: number }[] = [
  // 503 is tried again twice: three calls.
  { fault: { type: 'status', status: 503 }, outcome: () => 'UPSTREAM_UNAVAILABLE', calls: 3 },
  { fault: { type: 'status', status: 500 }, outcome: () => 'UPSTREAM_UNAVAILABLE', calls: 1 },
  { fault: { type: 'hang' }, outcome: () => 'UPSTREAM_TIMEOUT', calls: 1 },
  { fault: { type: 'truncated' }, outcome: () => 'UPSTREAM_BAD_RESPONSE', calls: 1 },
  { fault: { type: 'invalid-json' }, outcome: () => 'UPSTREAM_BAD_RESPONSE', calls: 1 },
  {
    fault: { type: 'rate-limit', retryAfterSeconds: 30 },
    outcome: () => 'UPSTREAM_RATE_LIMITED',
    calls: 1,
  },
  { fault: { type: 'auth-once' }, outcome: () => 'UPSTREAM_AUTH_FAILED', calls: 1 },
];

describe('upstream outcomes after the fault matrix', () => {
  let sandbox: Sandbox;
  let app: LiveApp;
  let samples: MetricSample[];
  let text: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ data: canaryData() });
    // A circuit that never opens: every fault meets its provider.
    app = await startLiveApp({
      sandbox,
      configDocument: canaryConfig({ timeoutMs: 1000, circuitBreaker: { failureThreshold: 1000 } }),
    });
    expect((await postGraphQL(app.url, DASHBOARD_QUERY)).body.errors).toBeUndefined();
    for (const { fault } of FAULTS) {
      for (const kind of BUILT_IN_KINDS) {
        // Two prepaid providers share one simulator: each of them meets the auth fault once.
        sandbox.setFault(
          kind,
          fault.type === 'auth-once' && kind === 'prepaid' ? { ...fault, times: 2 } : fault,
        );
        await postGraphQL(app.url, DASHBOARD_QUERY);
        sandbox.clearFaults();
      }
    }
    // An error inside an HTTP 200 body: merchant's ResponseCode 503 under HTTP 200.
    sandbox.simulators.merchant.failBalanceReads({ responseCode: 503 });
    await postGraphQL(app.url, DASHBOARD_QUERY);
    sandbox.simulators.merchant.failBalanceReads(undefined);
    ({ samples, text } = await scrape(app.server.origin));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await sandbox?.close();
  });

  for (const { id, kind } of PROVIDERS) {
    it(`${id} (${kind}): each fault under its contract code on its route`, () => {
      const route = BALANCE_ROUTE[kind];
      const count = (outcome: string) =>
        sampleValue(samples, 'balance_api_upstream_requests_total', {
          provider: id,
          kind,
          route,
          outcome,
        });
      const expected = new Map<string, number>();
      for (const { outcome, calls } of FAULTS) {
        const code = outcome(kind);
        expected.set(code, (expected.get(code) ?? 0) + calls);
      }
      if (kind === 'merchant') {
        expected.set('UPSTREAM_UNAVAILABLE', (expected.get('UPSTREAM_UNAVAILABLE') ?? 0) + 1);
      }
      for (const [outcome, calls] of expected) expect(count(outcome), outcome).toBe(calls);
      // The warm-up, the session kinds' reads again after their re-login, and every read of the
      // other kinds' faults.
      const others = FAULTS.length * (BUILT_IN_KINDS.length - 1) + (kind === 'merchant' ? 0 : 1);
      const relogin = LOGIN_ROUTE[kind] === undefined ? 0 : 1;
      expect(count('ok')).toBe(1 + others + relogin);
      const login = LOGIN_ROUTE[kind];
      if (login !== undefined) {
        // The first login, and one more after the rejected token.
        expect(
          sampleValue(samples, 'balance_api_upstream_logins_total', {
            provider: id,
            kind,
            outcome: 'ok',
          }),
        ).toBe(2);
      }
      // The last read failed for merchant only: its error under HTTP 200.
      expect(sampleValue(samples, 'balance_api_provider_up', { provider: id, kind })).toBe(
        kind === 'merchant' ? 0 : 1,
      );
    });
  }

  it('shows no credential, canary or token the sandbox issued', () => {
    const tokens = new Set<string>();
    for (const call of sandbox.calls()) {
      const authorization = call.headers.authorization;
      if (typeof authorization === 'string') {
        tokens.add(authorization.replace(/^(Bearer|Basic) /, ''));
      }
    }
    expect(tokens.size).toBeGreaterThan(3);
    expect(text.length).toBeGreaterThan(1000);
    for (const secret of [CANARY, 'CANARYQQ', ...tokens]) expect(text).not.toContain(secret);
  });
});
