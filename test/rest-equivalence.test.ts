import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse, stringify } from 'lossless-json';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { MERCHANT_DEMO_CREDENTIALS } from '../src/providers/merchant/demo.js';
import { merchantSandbox } from '../src/providers/merchant/sandbox.js';
import { PIK_DEMO_CREDENTIALS } from '../src/providers/pik/demo.js';
import { pikSandbox } from '../src/providers/pik/sandbox.js';
import {
  PREPAID_SMS_DEMO_CREDENTIALS,
  PREPAID_VOICE_DEMO_CREDENTIALS,
} from '../src/providers/prepaid/demo.js';
import { prepaidSandbox } from '../src/providers/prepaid/sandbox.js';
import { createAdapter } from '../src/providers/registry.js';
import type { RestConfig } from '../src/providers/rest/config.js';
import { restConfigSchema } from '../src/providers/rest/config.js';
import { createRestAdapter } from '../src/providers/rest/index.js';
import { DEMO_WALLET_ID, WALLET_DEMO_CREDENTIALS } from '../src/providers/wallet/demo.js';
import { walletSandbox } from '../src/providers/wallet/sandbox.js';
import { createMovableClock } from '../src/sandbox/clock.js';
import { type SandboxServer, startSandboxServer } from '../src/sandbox/server.js';
import { TokenCacheByTenantAndProvider } from '../src/upstream/token-cache.js';
import { type StandaloneAdapter, standalone } from './helpers/adapter.js';
import { demoConfigDocument, startTestApp, type TestApp } from './helpers/app.js';
import { plainAccounts } from './helpers/fixtures.js';
import { merchantAsRest, pikAsRest, prepaidAsRest, walletAsRest } from './rest-examples.js';

/**
 * The sandbox's prepaid, wallet (API key) and pik providers configured as `rest` providers read
 * exactly what their built-in kinds read: every account and balance field, amounts as their exact
 * text, `raw` as `Balance.raw` shows it. Over the demo data (through the simulators) and over
 * every normalization fixture of those kinds (served as the upstream's answer); and through
 * GraphQL, where each built-in demo provider and its rest twin answer one query field by field,
 * currency filters included (pik's one-currency read included).
 */

const dispatcher = new Agent();
const clock = createMovableClock();
const tokens = new TokenCacheByTenantAndProvider({ now: clock.now });
afterAll(() => dispatcher.close());

function builtinAdapter(raw: Record<string, unknown>): StandaloneAdapter {
  const config = parseConfig(
    { providers: [raw] },
    { source: 'test', env: {}, baseDir: process.cwd() },
  ).tenants[0]?.providers[0];
  if (config === undefined) throw new Error('no provider');
  return standalone(
    createAdapter({
      tenantId: 'builtin',
      config,
      dispatcher,
      tokens: tokens.slot('builtin', config.id),
      now: clock.now,
    }),
  );
}

function restAdapter(raw: Record<string, unknown>): StandaloneAdapter {
  // Credentials here are plain strings: the schema's output is the resolved configuration.
  const config = restConfigSchema.parse(raw) as unknown as RestConfig;
  return standalone(
    createRestAdapter({
      tenantId: 'rest',
      config,
      dispatcher,
      tokens: tokens.slot('rest', config.id),
      now: clock.now,
    }),
  );
}

/** Both adapters' reads of the same upstream, as plain JSON, for currencies `currencies`. */
async function bothRead(
  builtin: Record<string, unknown>,
  rest: Record<string, unknown>,
  currencies: string[] | null = null,
) {
  const [fromBuiltin, fromRest] = await Promise.all([
    builtinAdapter(builtin).fetchAccounts({ currencies }),
    restAdapter(rest).fetchAccounts({ currencies }),
  ]);
  return { builtin: plainAccounts(fromBuiltin), rest: plainAccounts(fromRest) };
}

describe('merchant too: a session in an envelope, rotated by x-refresh-token', () => {
  let sandbox: SandboxServer;
  let simulator: ReturnType<typeof merchantSandbox.createSimulator>;
  beforeAll(async () => {
    simulator = merchantSandbox.createSimulator(merchantSandbox.demoData(), clock);
    sandbox = await startSandboxServer({ simulators: [simulator], clock });
  });
  afterAll(() => sandbox.close());

  it('reads what the built-in kind reads, and adopts a rotated token instead of logging in', async () => {
    const baseUrl = sandbox.baseUrl('merchant');
    const rest = restAdapter(merchantAsRest(baseUrl, MERCHANT_DEMO_CREDENTIALS));
    const builtin = builtinAdapter({
      id: 'acquirer',
      kind: 'merchant',
      baseUrl,
      credentials: { ...MERCHANT_DEMO_CREDENTIALS },
    });
    const read = async () => {
      const [fromBuiltin, fromRest] = await Promise.all([
        builtin.fetchAccounts({ currencies: null }),
        rest.fetchAccounts({ currencies: null }),
      ]);
      expect(plainAccounts(fromRest)).toEqual(plainAccounts(fromBuiltin));
    };
    await read();
    // Within the seed's two minutes before expiry (1800 s), the answer rotates the session; the
    // token cache would renew only 60 s before it.
    clock.advance(1_700_000);
    await read();
    await read();
    const sessions = simulator.issuedSessions();
    expect(sessions.filter((session) => session.via === 'login')).toHaveLength(2);
    expect(sessions.filter((session) => session.via === 'rotation')).toHaveLength(2);
    // The rest adapter's last read used its rotated token.
    const rotated = sessions.filter((session) => session.via === 'rotation').map((s) => s.token);
    const lastAuth = sandbox
      .calls('merchant')
      .filter((call) => call.path === '/v2/account/balance')
      .map((call) => String(call.headers.authorization));
    expect(rotated.some((token) => lastAuth.slice(-2).includes(`Bearer ${token}`))).toBe(true);
  });
});

describe('over the demo data, through the simulators', () => {
  let sandbox: SandboxServer;
  beforeAll(async () => {
    sandbox = await startSandboxServer({
      simulators: [
        prepaidSandbox.createSimulator(prepaidSandbox.demoData(), clock),
        walletSandbox.createSimulator(walletSandbox.demoData(), clock),
        pikSandbox.createSimulator(pikSandbox.demoData(), clock),
      ],
      clock,
    });
  });
  afterAll(() => sandbox.close());

  it('prepaid: both demo merchants (CNY and HKD)', async () => {
    const baseUrl = sandbox.baseUrl('prepaid');
    for (const [id, currency, credentials] of [
      ['sms', 'CNY', PREPAID_SMS_DEMO_CREDENTIALS],
      ['voice', 'HKD', PREPAID_VOICE_DEMO_CREDENTIALS],
    ] as const) {
      const read = await bothRead(
        { id, kind: 'prepaid', baseUrl, currency, credentials: { ...credentials } },
        prepaidAsRest(baseUrl, { id, currency, ...credentials }),
      );
      expect(read.rest).toEqual(read.builtin);
      expect(JSON.stringify(read.rest)).toContain('"total":"');
    }
  });

  it('wallet: every asset, and a read narrowed to some assets', async () => {
    const baseUrl = sandbox.baseUrl('wallet');
    const builtin = {
      id: 'treasury',
      kind: 'wallet',
      baseUrl,
      walletId: DEMO_WALLET_ID,
      credentials: { ...WALLET_DEMO_CREDENTIALS },
    };
    const rest = walletAsRest(baseUrl, { walletId: DEMO_WALLET_ID, ...WALLET_DEMO_CREDENTIALS });
    for (const currencies of [null, ['USDT', 'xrp'], ['BTC']]) {
      const read = await bothRead(builtin, rest, currencies);
      expect(read.rest).toEqual(read.builtin);
    }
    // The narrowed read asked the wallet for just those assets, as the built-in kind does.
    const bodies = sandbox
      .calls('wallet')
      .map((call) => call.body)
      .filter((body) => body.includes('assets'));
    expect(bodies).toContain(`{"walletId":"${DEMO_WALLET_ID}","assets":["USDT","XRP"]}`);
  });

  it('pik: the balance list after a login, and the balance of one currency (held or not)', async () => {
    const baseUrl = sandbox.baseUrl('pik');
    const builtin = {
      id: 'pik-main',
      kind: 'pik',
      baseUrl,
      credentials: { ...PIK_DEMO_CREDENTIALS },
    };
    const rest = pikAsRest(baseUrl, PIK_DEMO_CREDENTIALS);
    const read = await bothRead(builtin, rest);
    expect(read.rest).toEqual(read.builtin);
    expect(JSON.stringify(read.rest)).toContain('"9007199254740993.01"');
    for (const currencies of [['EUR'], ['BTC'], ['USD', 'HKD']]) {
      const narrowed = await bothRead(builtin, rest, currencies);
      expect(narrowed.rest).toEqual(narrowed.builtin);
    }
    expect(restAdapter(rest).capabilities.currencyFilter).toBe('one');
    // Both asked the same paths: the list, then one currency by path, twice each.
    const paths = sandbox
      .calls('pik')
      .filter((call) => !call.path.includes('/auth/'))
      .map((call) => call.path);
    expect(paths.filter((path) => path === '/api/v1/balance/EUR')).toHaveLength(2);
    expect(paths.filter((path) => path === '/api/v1/balance/BTC')).toHaveLength(2);
  });
});

/** A loopback upstream that answers a pik login, and every other call with `body` as written. */
async function startFixtureUpstream(): Promise<{
  baseUrl: string;
  serve(text: string): void;
  close(): Promise<void>;
}> {
  let body = '{}';
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const login = request.url === '/api/v1/auth/token';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        login
          ? '{"code":200,"message":"success","data":{"accessToken":"fixture-token","tokenType":"Bearer","expiresIn":7200}}'
          : body,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    serve(text) {
      body = text;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Fixture {
  raw: unknown;
  options?: Record<string, string>;
  expected: unknown;
}

/** A fixture file, its `raw` re-serialized with every number's own text. */
function fixture(kind: string, name: string): Fixture & { rawText: string } {
  const text = readFileSync(new URL(`./fixtures/${kind}/${name}.json`, import.meta.url), 'utf8');
  const lossless = parse(text) as { raw: unknown };
  const plain = JSON.parse(text) as Fixture;
  return { ...plain, rawText: stringify(lossless.raw) ?? '' };
}

describe('over every fixture of the three kinds, served as the answer', () => {
  let upstream: Awaited<ReturnType<typeof startFixtureUpstream>>;
  beforeAll(async () => {
    upstream = await startFixtureUpstream();
  });
  afterAll(() => upstream.close());

  const cases: [kind: string, name: string][] = [
    ['prepaid', 'seed-example'],
    ['prepaid', 'floats-disagree'],
    ['prepaid', 'float-fallback'],
    ['prepaid', 'total-from-integer-parts'],
    ['wallet', 'seed-example'],
    ['wallet', 'precision'],
    ['pik', 'seed-example'],
    ['pik', 'precision'],
  ];

  it.each(cases)('%s %s', async (kind, name) => {
    const { rawText, options = {}, expected } = fixture(kind, name);
    upstream.serve(rawText);
    const { baseUrl } = upstream;
    const secrets = { devKey: 'k', devSecret: 's', apiKey: 'fixture-key' };
    const [builtin, rest] =
      kind === 'prepaid'
        ? [
            {
              id: 'p',
              kind,
              baseUrl,
              currency: options.currency,
              credentials: { devKey: 'k', devSecret: 's' },
            },
            prepaidAsRest(baseUrl, { id: 'p', currency: options.currency ?? 'CNY', ...secrets }),
          ]
        : kind === 'wallet'
          ? [
              {
                id: 'w',
                kind,
                baseUrl,
                walletId: options.walletId,
                credentials: { apiKey: secrets.apiKey },
              },
              walletAsRest(baseUrl, {
                id: 'w',
                walletId: options.walletId ?? '',
                apiKey: secrets.apiKey,
              }),
            ]
          : [
              { id: 'k', kind, baseUrl, credentials: { appId: 'a', appSecret: 'b' } },
              pikAsRest(baseUrl, { id: 'k', appId: 'a', appSecret: 'b' }),
            ];
    const read = await bothRead(builtin, rest);
    expect(read.builtin).toEqual(expected);
    expect(read.rest).toEqual(read.builtin);
  });
});

describe('through GraphQL: the same query, the built-in providers and their rest twins', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      configDocument: (baseUrl) => {
        const builtin = demoConfigDocument(baseUrl, ['prepaid', 'wallet', 'pik']).providers;
        const twins = [
          prepaidAsRest(baseUrl('prepaid'), { id: 'sms-rest', ...PREPAID_SMS_DEMO_CREDENTIALS }),
          prepaidAsRest(baseUrl('prepaid'), {
            id: 'voice-rest',
            currency: 'HKD',
            ...PREPAID_VOICE_DEMO_CREDENTIALS,
          }),
          walletAsRest(baseUrl('wallet'), {
            id: 'treasury-rest',
            walletId: DEMO_WALLET_ID,
            ...WALLET_DEMO_CREDENTIALS,
          }),
          pikAsRest(baseUrl('pik'), { id: 'pik-main-rest', ...PIK_DEMO_CREDENTIALS }),
        ];
        return { providers: [...builtin, ...twins] };
      },
    });
  });
  afterAll(() => app.close());

  const BALANCE = `currency network total available components { kind amount }
    depositAddresses { network address memo } updatedAt raw`;
  const QUERY = `query ($some: [String!]!, $one: [String!]!) {
    providers {
      id name
      accounts { id upstreamId name type status suppressed balances { ${BALANCE} } }
      some: balances(currencies: $some) { ${BALANCE} account { upstreamId } }
      one: balances(currencies: $one) { ${BALANCE} account { upstreamId } }
    }
  }`;

  it.each([
    [['usdt', 'XRP', 'hkd', 'EUR'], ['eur']],
    [['CNY'], ['BTC']],
    [['nope'], ['hkd']],
  ])('every field of every provider, currencies %j and %j', async (some, one) => {
    const result = await app.query(QUERY, { some, one });
    expect(result.errors).toBeUndefined();
    const providers = (result.data?.providers ?? []) as { id: string; name: string }[];
    const byId = new Map(providers.map((provider) => [provider.id, provider]));
    for (const id of ['sms', 'voice', 'treasury', 'pik-main']) {
      const builtin = byId.get(id);
      const twin = byId.get(`${id}-rest`);
      expect(builtin).toBeDefined();
      // The account ids are "<provider id>:<upstream id>": the twin's provider id is its own.
      const asTwin = JSON.parse(
        JSON.stringify({ ...builtin, id: `${id}-rest` }).replaceAll(`"${id}:`, `"${id}-rest:`),
      );
      expect({ ...twin, name: builtin?.name }).toEqual(asTwin);
    }
  });
});
