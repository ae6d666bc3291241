import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createCallerAuthenticator, createReloadableAuthenticator } from '../src/caller-auth.js';
import { type AppConfig, loadConfigFromEnvironment } from '../src/config/load.js';
import { createLiveHub, type LiveHub } from '../src/live/hub.js';
import type { ProviderKind } from '../src/providers/kinds.js';
import { type ConfigReloader, createConfigReloader, type ReloadOutcome } from '../src/reload.js';
import { createDemoSandboxData, DEMO_CREDENTIALS, type SandboxData } from '../src/sandbox/demo.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { refuseAnonymousOnOpenHost } from '../src/serve.js';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import { type AppRuntime, createAppRuntime } from '../src/tenants.js';
import { demoConfigDocument, loginCalls } from './helpers/app.js';
import {
  createManualTimers,
  type ManualTimers,
  subscribeSse,
  subscribeWs,
  wsClient,
} from './helpers/live.js';
import { captureLogs } from './helpers/log-capture.js';
import { type HeldUpstream, startHeldUpstream } from './helpers/raw-http.js';

/**
 * A configuration file on disk, balance-api running it on a real port against a sandbox, and the
 * reloader that SIGHUP calls: each test rewrites the file and calls `reload()`.
 */
interface ReloadApp {
  sandbox: Sandbox;
  /** The sandbox's base URL of a kind, as the first document was given it. */
  baseUrl: (kind: string) => string;
  data: SandboxData;
  dir: string;
  configPath: string;
  runtime: AppRuntime;
  hub: LiveHub;
  server: BalanceServer;
  reloader: ConfigReloader;
  timers: ManualTimers;
  lines: string[];
  outcomes: ReloadOutcome[];
  url: string;
  /** Rewrites the configuration file. */
  write(document: unknown): void;
  /** One query over HTTP. */
  query(
    query: string,
    authorization?: string,
  ): Promise<{ status: number; body: { data?: Record<string, unknown> | null; errors?: Err[] } }>;
  /** The log lines (parsed) whose message matches. */
  logged(message: RegExp): Record<string, unknown>[];
  close(): Promise<void>;
}

interface Err {
  message: string;
  path?: unknown[];
  extensions?: Record<string, unknown>;
}

const running: ReloadApp[] = [];

afterEach(async () => {
  for (const app of running.splice(0)) await app.close();
});

async function startReloadApp(options: {
  /** The first configuration document, from the sandbox's base URLs. */
  document: (baseUrl: (kind: string) => string) => unknown;
  env?: NodeJS.ProcessEnv;
  /** Written into the configuration folder before it is loaded. */
  files?: Record<string, string>;
  /** The reloader's further checks; default none. */
  check?: (config: AppConfig) => void;
}): Promise<ReloadApp> {
  const data = createDemoSandboxData();
  const sandbox = await startSandbox({ data });
  const dir = mkdtempSync(join(tmpdir(), 'balance-reload-'));
  for (const [name, text] of Object.entries(options.files ?? {})) {
    writeFileSync(join(dir, name), text);
  }
  const configPath = join(dir, 'balance-api.json');
  const write = (document: unknown) => writeFileSync(configPath, JSON.stringify(document));
  const baseUrl = (kind: string) => sandbox.baseUrl(kind as ProviderKind);
  write(options.document(baseUrl));
  const load = () =>
    loadConfigFromEnvironment({ configPath, port: 0, env: { ...options.env } }) as AppConfig;
  const config = load();
  const { log, lines } = captureLogs('info');
  const runtime = createAppRuntime({ config, now: sandbox.clock.now, log });
  const authenticator = createReloadableAuthenticator(
    createCallerAuthenticator(config.auth, new Set(config.tenants.map((tenant) => tenant.id))),
  );
  const timers = createManualTimers();
  const hub = createLiveHub({ timers, random: () => 0.5 });
  const server = await startBalanceServer({
    runtime,
    authenticator,
    log,
    server: config.server,
    liveHub: hub,
  });
  const outcomes: ReloadOutcome[] = [];
  const reloader = createConfigReloader({
    config,
    load,
    check: options.check,
    runtime,
    hub,
    authenticator,
    log,
    onReload: (outcome) => outcomes.push(outcome),
  });
  const url = `${server.origin}/graphql`;
  const app: ReloadApp = {
    sandbox,
    baseUrl,
    data,
    dir,
    configPath,
    runtime,
    hub,
    server,
    reloader,
    timers,
    lines,
    outcomes,
    url,
    write,
    async query(query, authorization) {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(authorization === undefined ? {} : { authorization }),
        },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, body: (await response.json()) as never };
    },
    logged: (message) =>
      lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => message.test(String(line.msg))),
    async close() {
      await server.close();
      await runtime.close();
      await sandbox.close();
    },
  };
  running.push(app);
  return app;
}

/** The demo providers of these ids, in this order. */
function providersOf(baseUrl: (kind: string) => string, ids: string[]) {
  const all = demoConfigDocument(baseUrl).providers;
  return ids.map((id) => {
    const provider = all.find((candidate) => candidate.id === id);
    if (provider === undefined) throw new Error(`no demo provider "${id}"`);
    return provider;
  });
}

const PROVIDERS = '{ providers { id name accounts { id } } }';

/** The provider ids of a `PROVIDERS` answer. */
function idsOf(body: { data?: Record<string, unknown> | null }): string[] {
  return ((body.data?.providers ?? []) as { id: string }[]).map((provider) => provider.id);
}

function loginCounts(sandbox: Sandbox): Record<string, number> {
  const kinds = ['pik', 'asset-accounts', 'merchant', 'wallet'] as const;
  return Object.fromEntries(kinds.map((kind) => [kind, loginCalls(sandbox, kind).length]));
}

/** The pik provider with its secret in a file, `pik-secret` beside the configuration. */
function pikFromFile(baseUrl: (kind: string) => string) {
  const [pik] = providersOf(baseUrl, ['pik-main']);
  return {
    ...pik,
    credentials: { appId: DEMO_CREDENTIALS.pik.appId, appSecret: { file: 'pik-secret' } },
  };
}

describe('reloading the configuration', () => {
  it('adds a provider with no new login for the others, which keep their runtime, session and status', async () => {
    const app = await startReloadApp({
      document: (url) => ({
        providers: providersOf(url, ['pik-main', 'ops', 'acquirer', 'treasury']),
      }),
    });
    const first = await app.query(PROVIDERS);
    expect(first.body.errors).toBeUndefined();
    const logins = loginCounts(app.sandbox);
    // The wallet's API key needs no login.
    expect(logins).toEqual({ pik: 1, 'asset-accounts': 1, merchant: 1, wallet: 0 });
    const before = app.runtime.tenants.get('default');
    const pik = before?.byId.get('pik-main');
    const pikSlot = app.runtime.tokens.slot('default', 'pik-main');
    expect(pik?.status().state).toBe('UP');

    app.write({
      providers: providersOf(app.baseUrl, ['pik-main', 'ops', 'acquirer', 'treasury', 'sms']),
    });
    expect(app.reloader.reload()).toBe('ok');
    expect(app.outcomes).toEqual(['ok']);

    const after = app.runtime.tenants.get('default');
    expect(after?.providers.map((provider) => provider.id)).toEqual([
      'pik-main',
      'ops',
      'acquirer',
      'treasury',
      'sms',
    ]);
    // The same runtime: its circuit, caches, status and session are those it had.
    expect(after?.byId.get('pik-main')).toBe(pik);
    expect(app.runtime.tokens.slot('default', 'pik-main')).toBe(pikSlot);
    expect(pikSlot.current()).toBeDefined();
    expect(after?.byId.get('pik-main')?.status().state).toBe('UP');

    const second = await app.query(PROVIDERS);
    expect(second.body.errors).toBeUndefined();
    expect(idsOf(second.body)).toContain('sms');
    expect(loginCounts(app.sandbox)).toEqual(logins);
    const [reloaded] = app.logged(/^configuration reloaded/);
    expect(reloaded).toMatchObject({
      added: ['default/sms'],
      changed: [],
      removed: [],
      unchanged: 4,
    });
  });

  it('an identical file changes nothing', async () => {
    const app = await startReloadApp({
      document: (url) => ({ providers: providersOf(url, ['pik-main', 'sms']) }),
    });
    await app.query(PROVIDERS);
    const tenant = app.runtime.tenants.get('default');
    expect(app.reloader.reload()).toBe('ok');
    const after = app.runtime.tenants.get('default');
    expect(after?.byId.get('pik-main')).toBe(tenant?.byId.get('pik-main'));
    expect(after?.byId.get('sms')).toBe(tenant?.byId.get('sms'));
    expect(app.logged(/^configuration reloaded/)[0]).toMatchObject({
      added: [],
      changed: [],
      removed: [],
      unchanged: 2,
    });
  });

  it('a rotated secret file changes its provider: a fresh session, logged in with the new secret', async () => {
    const app = await startReloadApp({
      files: { 'pik-secret': `${DEMO_CREDENTIALS.pik.appSecret}\n` },
      document: (url) => ({ providers: [pikFromFile(url), ...providersOf(url, ['ops'])] }),
    });
    expect((await app.query(PROVIDERS)).body.errors).toBeUndefined();
    const pik = app.runtime.tenants.get('default')?.byId.get('pik-main');
    const ops = app.runtime.tenants.get('default')?.byId.get('ops');
    const oldSlot = app.runtime.tokens.slot('default', 'pik-main');
    expect(loginCounts(app.sandbox)).toMatchObject({ pik: 1, 'asset-accounts': 1 });

    // The provider rotates the secret: the old one is refused from now on.
    const customer = app.data.pik.customers[0];
    if (customer === undefined) throw new Error('demo data changed');
    customer.appSecret = 'rotated-pik-secret-canary-7c1d';
    writeFileSync(join(app.dir, 'pik-secret'), 'rotated-pik-secret-canary-7c1d\n');
    // The configuration file itself is the same.
    app.write({ providers: [pikFromFile(app.baseUrl), ...providersOf(app.baseUrl, ['ops'])] });
    expect(app.reloader.reload()).toBe('ok');

    const after = app.runtime.tenants.get('default');
    expect(after?.byId.get('pik-main')).not.toBe(pik);
    expect(after?.byId.get('ops')).toBe(ops);
    expect(after?.byId.get('pik-main')?.status().state).toBe('UNKNOWN');
    expect(app.runtime.tokens.slot('default', 'pik-main')).not.toBe(oldSlot);
    expect(app.runtime.tokens.slot('default', 'pik-main').current()).toBeUndefined();

    const second = await app.query(PROVIDERS);
    expect(second.body.errors).toBeUndefined();
    // One new login for pik (with the new secret: the old one is refused), none for ops.
    expect(loginCounts(app.sandbox)).toMatchObject({ pik: 2, 'asset-accounts': 1 });
    const reloaded = app.logged(/^configuration reloaded/);
    expect(reloaded[0]).toMatchObject({ changed: ['default/pik-main'], unchanged: 1 });
    expect(app.lines.join('\n')).not.toContain('rotated-pik-secret-canary-7c1d');
  });

  it('refuses a broken configuration with one line per problem, no secret, and keeps serving', async () => {
    const app = await startReloadApp({
      document: (url) => ({ providers: providersOf(url, ['pik-main', 'sms']) }),
    });
    expect((await app.query(PROVIDERS)).body.errors).toBeUndefined();
    const tenant = app.runtime.tenants.get('default');
    const [pik, sms] = providersOf(app.baseUrl, ['pik-main', 'sms']);
    app.write({
      providers: [
        // A secret typed where a kind belongs, and an unset variable.
        { ...pik, kind: 'broken-canary-secret-55e1' },
        { ...sms, credentials: { devKey: 'demo-sms', devSecret: { env: 'SMS_SECRET_UNSET' } } },
        ...providersOf(app.baseUrl, ['treasury']),
      ],
    });
    expect(app.reloader.reload()).toBe('refused');
    expect(app.outcomes).toEqual(['refused']);
    expect(app.runtime.tenants.get('default')).toBe(tenant);
    const [refused] = app.logged(/^configuration reload refused/);
    expect(refused).toMatchObject({
      source: app.configPath,
      problems: [
        expect.stringMatching(/^providers\[0\] "pik-main": kind: expected one of pik, /),
        `providers[1] "sms": credentials.devSecret: environment variable SMS_SECRET_UNSET is not set`,
      ],
    });
    expect(refused?.level).toBe(50);
    expect(app.lines.join('\n')).not.toContain('broken-canary-secret-55e1');
    // The running configuration still serves, treasury not added.
    const still = await app.query(PROVIDERS);
    expect(idsOf(still.body)).toEqual(['pik-main', 'sms']);

    // A file that is not JSON is refused the same way, and a good one is taken afterwards.
    writeFileSync(app.configPath, '{ "providers": [ }');
    expect(app.reloader.reload()).toBe('refused');
    expect(app.logged(/^configuration reload refused/)[1]).toMatchObject({
      problems: [
        expect.stringMatching(
          /^the file is not valid JSON \(unexpected text at line 1, column \d+\)$/,
        ),
      ],
    });
    app.write({ providers: providersOf(app.baseUrl, ['sms']) });
    expect(app.reloader.reload()).toBe('ok');
    expect(app.outcomes).toEqual(['refused', 'refused', 'ok']);
  });

  it('a changed server section is logged as needing a restart and otherwise ignored', async () => {
    const app = await startReloadApp({
      document: (url) => ({
        server: { requestTimeoutMs: 9000 },
        providers: providersOf(url, ['sms']),
      }),
    });
    app.write({
      server: { requestTimeoutMs: 8000, graphiql: false },
      providers: providersOf(app.baseUrl, ['sms', 'treasury']),
    });
    expect(app.reloader.reload()).toBe('ok');
    const [restart] = app.logged(/need a restart/);
    expect(restart).toMatchObject({
      level: 40,
      keys: ['server.graphiql', 'server.requestTimeoutMs'],
    });
    expect(app.reloader.config.server.requestTimeoutMs).toBe(9000);
    expect(app.reloader.config.server.graphiql).toBe(true);
    // The providers reloaded all the same.
    expect(app.runtime.tenants.get('default')?.providers.map((p) => p.id)).toEqual([
      'sms',
      'treasury',
    ]);
    // GraphiQL is still served: the server was not rebuilt.
    const page = await fetch(app.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>balance-api</title>');
  });

  it('a read in flight finishes on the runtime it started with', async () => {
    let held: HeldUpstream | undefined;
    const app = await startReloadApp({
      document: (url) => ({ providers: providersOf(url, ['sms']) }),
    });
    held = await startHeldUpstream(app.sandbox.origin);
    try {
      const [sms] = providersOf(app.baseUrl, ['sms']);
      app.write({ providers: [{ ...sms, baseUrl: `${held.origin}/prepaid`, name: 'Before' }] });
      expect(app.reloader.reload()).toBe('ok');
      const arrived = held.arrival();
      const inFlight = app.query(PROVIDERS);
      await arrived;
      app.write({ providers: [{ ...sms, name: 'After' }] });
      expect(app.reloader.reload()).toBe('ok');
      held.release();
      const result = await inFlight;
      expect(result.body.errors).toBeUndefined();
      expect(result.body.data?.providers).toEqual([
        { id: 'sms', name: 'Before', accounts: [{ id: expect.stringMatching(/^sms:/) }] },
      ]);
      expect((await app.query(PROVIDERS)).body.data?.providers).toMatchObject([
        { id: 'sms', name: 'After' },
      ]);
    } finally {
      await held.close();
    }
  });
});

const EVENTS = `subscription ($ids: [ID!]) {
  balanceEvents(providerIds: $ids) { kind providerId currency balance { total } }
}`;
const STATUS = `subscription ($ids: [ID!]) {
  providerStatusChanged(providerIds: $ids) { id status { state } }
}`;

describe('reloading with subscriptions open', () => {
  it('ends the subscriptions of a removed provider with an error naming it; the others go on', async () => {
    const app = await startReloadApp({
      document: (url) => ({
        providers: providersOf(url, ['pik-main', 'sms']).map((p) => ({
          ...p,
          pollIntervalMs: 1000,
        })),
      }),
    });
    const sms = await subscribeSse(app.url, EVENTS, { ids: ['sms'] });
    expect((await sms.next()).data?.balanceEvents).toMatchObject({
      kind: 'SNAPSHOT',
      providerId: 'sms',
    });
    const both = await subscribeSse(app.url, EVENTS, { ids: ['pik-main', 'sms'] });
    const pik = await subscribeSse(app.url, EVENTS, { ids: ['pik-main'] });
    const records = app.data.pik.customers[0]?.records ?? [];
    for (const _ of records) {
      expect((await pik.next()).data?.balanceEvents).toMatchObject({ kind: 'SNAPSHOT' });
    }
    const ws = wsClient(app.url);
    const smsStatus = subscribeWs(ws.client, STATUS, { ids: ['sms'] });
    // The status subscription is in place once the hub counts it (no event until a change).
    await vi.waitFor(() => expect(app.server.live.active()).toBe(4), { interval: 1 });

    app.write({
      providers: providersOf(app.baseUrl, ['pik-main']).map((p) => ({
        ...p,
        pollIntervalMs: 1000,
      })),
    });
    expect(app.reloader.reload()).toBe('ok');
    const removed = {
      message: expect.stringMatching(/^Provider "sms" was removed from the configuration/),
      extensions: { code: 'PROVIDER_REMOVED', providerId: 'sms' },
    };
    // SSE: one result with the error, then the stream ends.
    let result = await sms.next();
    while ((result.data?.balanceEvents as { kind?: string } | undefined)?.kind === 'SNAPSHOT') {
      result = await sms.next();
    }
    expect(result).toMatchObject({ data: null, errors: [removed] });
    await sms.ended;
    // A subscription to several providers, one of them removed, ends too.
    for (;;) {
      const next = await both.next();
      if (next.errors !== undefined) {
        expect(next).toMatchObject({ data: null, errors: [removed] });
        break;
      }
    }
    await both.ended;
    // graphql-transport-ws: the same error result.
    expect(await smsStatus.next()).toMatchObject({ data: null, errors: [removed] });
    await expect(smsStatus.next()).rejects.toThrow('the subscription ended');
    expect(app.server.live.active()).toBe(1);

    // pik-main's subscription goes on: a change is told at the next poll.
    const usd = records[0];
    if (usd === undefined) throw new Error('demo data changed');
    usd.balance = '1600.25';
    app.timers.advance(1000);
    expect((await pik.next()).data?.balanceEvents).toEqual({
      kind: 'CHANGED',
      providerId: 'pik-main',
      currency: 'USD',
      balance: { total: '1600.25' },
    });
    pik.close();
    await ws.client.dispose();
  });

  it("a changed provider's subscriptions go on through its new runtime: no SNAPSHOT again, only the differences", async () => {
    const pikWith = (url: (kind: string) => string) => ({
      ...pikFromFile(url),
      pollIntervalMs: 1000,
      retry: { maxRetries: 0 },
    });
    const app = await startReloadApp({
      files: { 'pik-secret': DEMO_CREDENTIALS.pik.appSecret },
      document: (url) => ({ providers: [pikWith(url)] }),
    });
    const records = app.data.pik.customers[0]?.records ?? [];
    const events = await subscribeSse(app.url, EVENTS, { ids: ['pik-main'] });
    for (const _ of records) {
      expect((await events.next()).data?.balanceEvents).toMatchObject({ kind: 'SNAPSHOT' });
    }
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(1);
    const old = app.runtime.tenants.get('default')?.byId.get('pik-main');
    const status = await subscribeSse(app.url, STATUS, { ids: ['pik-main'] });
    await vi.waitFor(() => expect(app.server.live.active()).toBe(2), { interval: 1 });

    const customer = app.data.pik.customers[0];
    if (customer === undefined) throw new Error('demo data changed');
    customer.appSecret = 'rotated-pik-secret';
    writeFileSync(join(app.dir, 'pik-secret'), 'rotated-pik-secret');
    const usd = records[0];
    if (usd === undefined) throw new Error('demo data changed');
    usd.balance = '1700.25';
    const next = app.runtime;
    app.write({ providers: [pikWith(app.baseUrl)] });
    expect(app.reloader.reload()).toBe('ok');
    const fresh = next.tenants.get('default')?.byId.get('pik-main');
    expect(fresh).not.toBe(old);
    // The subscription reads through the new runtime at once: a login with the new secret, and
    // the one difference from what it was told before.
    expect((await events.next()).data?.balanceEvents).toEqual({
      kind: 'CHANGED',
      providerId: 'pik-main',
      currency: 'USD',
      balance: { total: '1700.25' },
    });
    expect(loginCalls(app.sandbox, 'pik')).toHaveLength(2);
    expect(fresh?.status().state).toBe('UP');
    expect(app.hub.pollers()).toBe(1);
    // The new runtime found UP again, as its subscribers knew it: no status event for that. The
    // first one they get is the next real change.
    app.sandbox.setFault('pik', { type: 'status', status: 503 });
    app.timers.advance(1000);
    expect((await status.next()).data).toEqual({
      providerStatusChanged: { id: 'pik-main', status: { state: 'DOWN' } },
    });
    status.close();
    events.close();
    await Promise.all([events.ended, status.ended]);
    await vi.waitFor(() => expect(app.hub.pollers()).toBe(0), { interval: 1 });
  });
});

describe('reloading caller authentication', () => {
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const OLD_KEY = 'old-api-key-canary-90ab';
  const NEW_KEY = 'new-api-key-canary-41fe';
  /** The first document of these tests: sms, callers authenticated by `OLD_KEY`. */
  const withOldKey = (baseUrl: (kind: string) => string) => ({
    auth: { apiKeys: [{ tenant: 'default', sha256: sha256(OLD_KEY) }] },
    providers: providersOf(baseUrl, ['sms']),
  });

  it('refuses the old API key and accepts the new one, over HTTP and WebSocket, without a restart', async () => {
    const app = await startReloadApp({
      document: withOldKey,
    });
    expect((await app.query(PROVIDERS, `Bearer ${OLD_KEY}`)).status).toBe(200);
    expect((await app.query(PROVIDERS, `Bearer ${NEW_KEY}`)).status).toBe(401);
    app.write({
      auth: { apiKeys: [{ tenant: 'acme', sha256: sha256(NEW_KEY) }] },
      tenants: [{ id: 'acme', providers: providersOf(app.baseUrl, ['treasury']) }],
    });
    expect(app.reloader.reload()).toBe('ok');
    expect((await app.query(PROVIDERS, `Bearer ${OLD_KEY}`)).status).toBe(401);
    const allowed = await app.query(PROVIDERS, `Bearer ${NEW_KEY}`);
    expect(allowed.status).toBe(200);
    expect(idsOf(allowed.body)).toEqual(['treasury']);
    expect(app.logged(/^configuration reloaded/)[0]).toMatchObject({
      added: ['acme/treasury'],
      removed: ['default/sms'],
      auth: 'reloaded',
    });
    const refused = wsClient(app.url, { Authorization: `Bearer ${OLD_KEY}` });
    expect((await refused.closedWith).code).toBe(4403);
    const ws = wsClient(app.url, { Authorization: `Bearer ${NEW_KEY}` });
    const status = subscribeWs(ws.client, STATUS, { ids: ['treasury'] });
    await vi.waitFor(() => expect(app.server.live.active()).toBe(1), { interval: 1 });
    status.close();
    await ws.client.dispose();
    expect(app.lines.join('\n')).not.toMatch(/canary/);
  });

  it('refuses a reload that would leave an open host without caller authentication', async () => {
    const app = await startReloadApp({
      document: withOldKey,
      // serve's own check, as if it listened on every interface.
      check: (config) =>
        refuseAnonymousOnOpenHost({ ...config, server: { ...config.server, host: '0.0.0.0' } }),
    });
    app.write({ providers: providersOf(app.baseUrl, ['sms']) });
    expect(app.reloader.reload()).toBe('refused');
    expect(app.logged(/^configuration reload refused/)[0]).toMatchObject({
      source: 'server',
      problems: [expect.stringMatching(/^host: refusing to serve on 0\.0\.0\.0 without caller/)],
    });
    expect((await app.query(PROVIDERS)).status).toBe(401);
    expect((await app.query(PROVIDERS, `Bearer ${OLD_KEY}`)).status).toBe(200);
  });
});
