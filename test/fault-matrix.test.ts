import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProviderStatusView } from '../src/provider-events.js';
import type { ProviderKind } from '../src/providers/kinds.js';
import { createDemoSandboxData } from '../src/sandbox/demo.js';
import type { SandboxFault } from '../src/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import {
  BUILT_IN_KINDS,
  type BuiltInKind,
  demoConfigDocument,
  type GraphQLResult,
  startTestApp,
  type TestApp,
} from './helpers/app.js';
import { captureLogs } from './helpers/log-capture.js';

/**
 * The fault matrix: every provider kind by every sandbox fault, each against the dashboard query.
 * Every credential is a canary; at the end no canary (nor any token the sandbox issued) may appear
 * in any log line or any response.
 */
const CANARY = 'canary7q';
const CREDENTIALS = {
  pik: { appId: `${CANARY}-pik-app`, appSecret: `${CANARY}-pik-secret` },
  assetAccounts: {
    username: `${CANARY}-ops`,
    password: `${CANARY}-ops-password`,
    // Base32, as a TOTP seed must be; itself a canary.
    otpSecret: 'CANARYQQCANARYQQCANARYQQCANARYQQ',
  },
  merchant: { clientId: `${CANARY}-merchant`, clientSecret: `${CANARY}-merchant-secret` },
  wallet: { apiKey: `${CANARY}-wallet-api-key` },
  sms: { devKey: `${CANARY}-sms`, devSecret: `${CANARY}-sms-secret` },
  voice: { devKey: `${CANARY}-voice`, devSecret: `${CANARY}-voice-secret` },
};
const SECRETS = [CANARY, 'CANARYQQCANARYQQ'];

function canaryData() {
  const data = createDemoSandboxData();
  Object.assign(data.pik.customers[0] ?? {}, CREDENTIALS.pik);
  Object.assign(data['asset-accounts'].customers[0] ?? {}, CREDENTIALS.assetAccounts);
  Object.assign(data.merchant.merchants[0] ?? {}, CREDENTIALS.merchant);
  Object.assign(data.wallet.wallets[0] ?? {}, CREDENTIALS.wallet);
  Object.assign(data.prepaid.merchants[0] ?? {}, CREDENTIALS.sms);
  Object.assign(data.prepaid.merchants[1] ?? {}, CREDENTIALS.voice);
  return data;
}

const CREDENTIALS_BY_ID: Record<string, Record<string, string>> = {
  'pik-main': CREDENTIALS.pik,
  ops: CREDENTIALS.assetAccounts,
  acquirer: CREDENTIALS.merchant,
  treasury: CREDENTIALS.wallet,
  sms: CREDENTIALS.sms,
  voice: CREDENTIALS.voice,
};
const TIMEOUT_MS = 400;

/** The demo tenant's providers (pik-main, ops, acquirer, treasury, sms, voice), as configured. */
const DEMO_PROVIDERS = demoConfigDocument(() => 'http://unused.test').providers;
const ALL_IDS = DEMO_PROVIDERS.map((provider) => provider.id as string);
/** The ids of each kind's providers, e.g. prepaid's sms and voice. */
const PROVIDERS_OF = Object.fromEntries(
  BUILT_IN_KINDS.map((kind) => [
    kind,
    DEMO_PROVIDERS.filter((provider) => provider.kind === kind).map(
      (provider) => provider.id as string,
    ),
  ]),
) as Record<BuiltInKind, string[]>;

interface Expectation {
  /** The error code, or null when the fault is recovered from without an error. */
  code: string | null;
  retryable?: boolean;
  retryAfterSeconds?: number;
}

const FAULTS: { name: string; fault: SandboxFault; expect: (kind: ProviderKind) => Expectation }[] =
  [
    {
      name: '503',
      fault: { type: 'status', status: 503 },
      expect: () => ({ code: 'UPSTREAM_UNAVAILABLE', retryable: true }),
    },
    {
      name: '500',
      fault: { type: 'status', status: 500 },
      expect: () => ({ code: 'UPSTREAM_UNAVAILABLE', retryable: true }),
    },
    {
      name: 'hang',
      fault: { type: 'hang' },
      expect: () => ({ code: 'UPSTREAM_TIMEOUT', retryable: true }),
    },
    {
      name: 'reset',
      fault: { type: 'reset' },
      expect: () => ({ code: 'UPSTREAM_UNAVAILABLE', retryable: true }),
    },
    {
      name: 'reset in the middle of the body',
      fault: { type: 'reset-body' },
      expect: () => ({ code: 'UPSTREAM_UNAVAILABLE', retryable: true }),
    },
    {
      name: 'truncated body',
      fault: { type: 'truncated' },
      expect: () => ({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false }),
    },
    {
      name: 'invalid JSON',
      fault: { type: 'invalid-json' },
      expect: () => ({ code: 'UPSTREAM_BAD_RESPONSE', retryable: false }),
    },
    {
      name: '429 with a Retry-After beyond the cap',
      fault: { type: 'rate-limit', retryAfterSeconds: 30 },
      expect: () => ({ code: 'UPSTREAM_RATE_LIMITED', retryable: true, retryAfterSeconds: 30 }),
    },
    {
      name: 'auth failing once',
      fault: { type: 'auth-once' },
      // A session kind logs in again once and answers; an API key or a dev key has nothing to renew.
      expect: (kind) =>
        kind === 'wallet' || kind === 'prepaid'
          ? { code: 'UPSTREAM_AUTH_FAILED', retryable: false }
          : { code: null },
    },
  ];

const DASHBOARD = `{
  providers { id accounts { id balances { currency total available } } }
  totals { complete missingProviders currencies { currency total } }
}`;

let sandbox: Sandbox;
const logs = captureLogs();
const responses: string[] = [];
let baseline: GraphQLResult;

beforeAll(async () => {
  sandbox = await startSandbox({ data: canaryData() });
});
afterAll(() => sandbox.close());

/** A fresh balance-api (fresh tokens and breakers) on the shared sandbox, warmed up by one query. */
async function freshApp(): Promise<TestApp> {
  const app = await startTestApp({
    sandbox,
    log: logs.log,
    configDocument: (baseUrl) => ({
      providers: demoConfigDocument(baseUrl).providers.map((provider) => ({
        ...provider,
        credentials: CREDENTIALS_BY_ID[provider.id as string],
        timeoutMs: TIMEOUT_MS,
      })),
    }),
  });
  const warm = await app.query(DASHBOARD);
  responses.push(JSON.stringify(warm));
  expect(warm.errors).toBeUndefined();
  return app;
}

/** The (kind, fault) cases run so far: the secrets test runs those a filter left out. */
const ran = new Set<string>();

/** One case: a fresh app meets the fault of one kind on one dashboard query. */
async function runCase(
  kind: ProviderKind,
  { name, fault }: (typeof FAULTS)[number],
): Promise<{ result: GraphQLResult; elapsed: number; statuses: Map<string, ProviderStatusView> }> {
  ran.add(`${kind} × ${name}`);
  const app = await freshApp();
  try {
    // Two prepaid providers share one simulator: each of them meets the auth fault once.
    sandbox.setFault(
      kind,
      fault.type === 'auth-once' && kind === 'prepaid' ? { ...fault, times: 2 } : fault,
    );
    const started = performance.now();
    const result = await app.query(DASHBOARD);
    const elapsed = performance.now() - started;
    responses.push(JSON.stringify(result));
    const providers = app.runtime.tenants.get('default')?.providers ?? [];
    const statuses = new Map(providers.map((provider) => [provider.id, provider.status()]));
    return { result, elapsed, statuses };
  } finally {
    sandbox.clearFaults();
    await app.close();
  }
}

const KINDS: readonly BuiltInKind[] = BUILT_IN_KINDS;

describe('the fault matrix: five kinds by each fault', () => {
  beforeAll(async () => {
    const app = await freshApp();
    baseline = await app.query(DASHBOARD);
    await app.close();
  });

  for (const kind of KINDS) {
    for (const entry of FAULTS) {
      const { name, fault, expect: expectationOf } = entry;
      it(`${kind} × ${name}`, async () => {
        const expectation = expectationOf(kind);
        const failing = expectation.code === null ? [] : PROVIDERS_OF[kind];
        const { result, elapsed, statuses } = await runCase(kind, entry);

        // One error per failing provider, on its field, with the contract's extensions.
        expect(result.errors ?? []).toHaveLength(failing.length);
        for (const error of result.errors ?? []) {
          const providerId = error.extensions?.providerId as string;
          expect(failing).toContain(providerId);
          expect(error.path).toEqual(['providers', ALL_IDS.indexOf(providerId), 'accounts']);
          expect(error.extensions).toEqual({
            code: expectation.code,
            providerId,
            retryable: expectation.retryable,
            ...(expectation.retryAfterSeconds === undefined
              ? {}
              : { retryAfterSeconds: expectation.retryAfterSeconds }),
          });
          expect(error.message.startsWith(`${providerId}: `)).toBe(true);
          // Never the upstream body.
          expect(error.message).not.toMatch(/"code"|"data"|balance"|sandbox-1|\{/);
        }

        // Every other provider's data is complete: exactly what it was without the fault.
        const providers = result.data?.providers as { id: string; accounts: unknown }[];
        const before = baseline.data?.providers as { id: string; accounts: unknown }[];
        for (const [index, provider] of providers.entries()) {
          if (failing.includes(provider.id)) expect(provider.accounts).toBeNull();
          else expect(provider.accounts).toEqual(before[index]?.accounts);
        }
        const totals = result.data?.totals as { complete: boolean; missingProviders: string[] };
        expect(totals.complete).toBe(failing.length === 0);
        expect(totals.missingProviders).toEqual(failing);

        // Each read went to its provider's status: the failure as the client was told it.
        expect(statuses.size).toBe(ALL_IDS.length);
        for (const [providerId, status] of statuses) {
          if (!failing.includes(providerId)) {
            expect(status).toMatchObject({ state: 'UP', circuitOpen: false, lastError: undefined });
            continue;
          }
          const error = result.errors?.find((each) => each.extensions?.providerId === providerId);
          expect(status.state).toBe('DOWN');
          expect(status.lastSuccessAt).toBeDefined();
          expect(status.lastError).toEqual({
            code: expectation.code,
            message: error?.message,
            retryable: expectation.retryable,
            at: status.lastFailureAt,
          });
        }

        // A hung provider costs its own deadline plus a little, never more; nothing else hangs.
        expect(elapsed).toBeLessThan(fault.type === 'hang' ? TIMEOUT_MS + 1500 : 5000);
      });
    }
  }
});

describe('secrets stay secret through the whole matrix', () => {
  // Run alone (`-t secret`), or with part of the matrix filtered out, it runs the rest itself.
  beforeAll(async () => {
    for (const kind of KINDS) {
      for (const entry of FAULTS) {
        if (!ran.has(`${kind} × ${entry.name}`)) await runCase(kind, entry);
      }
    }
  }, 120_000);

  it('no credential, and no token the sandbox issued, appears in any log line or response', () => {
    const tokens = new Set<string>();
    for (const call of sandbox.calls()) {
      const authorization = call.headers.authorization;
      if (typeof authorization === 'string')
        tokens.add(authorization.replace(/^(Bearer|Basic) /, ''));
      const apiKey = call.headers['x-api-key'];
      if (typeof apiKey === 'string') tokens.add(apiKey);
    }
    expect(tokens.size).toBeGreaterThan(5);
    expect(logs.lines.length).toBeGreaterThan(100);
    // The logs did record the calls: provider, route, status, duration and retries.
    expect(
      logs.lines.some((line) => /"msg":"upstream call"/.test(line) && /"retries":2/.test(line)),
    ).toBe(true);
    expect(logs.lines.some((line) => /"msg":"graphql request"/.test(line))).toBe(true);
    const haystacks = [...logs.lines, ...responses];
    for (const text of haystacks) {
      for (const secret of [...SECRETS, ...tokens]) {
        if (text.includes(secret)) throw new Error(`a secret leaked into: ${text.slice(0, 300)}`);
      }
    }
  });
});
