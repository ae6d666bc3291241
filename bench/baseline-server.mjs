// The baseline of `npm run bench`: what a user could write instead of balance-api. A plain
// node:http server that, per request, reads the same five providers with undici (logging in the
// same way and caching tokens), parses with lossless-json, sums with decimal.js, and returns the
// JSON of the dashboard query, with no GraphQL. Usage: node bench/baseline-server.mjs CONFIG.json

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Decimal } from 'decimal.js';
import { isLosslessNumber, parse } from 'lossless-json';
import { Secret, TOTP } from 'otpauth';
import { Agent, request } from 'undici';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const providers = config.providers;
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

const text = (value) => (isLosslessNumber(value) ? value.value : String(value));
/** An amount's text with its own scale; a sum keeps the largest scale. */
const scaleOf = (t) => (t.includes('.') ? t.split('.')[1].length : 0);
function sum(texts) {
  let total = new Decimal(0);
  let scale = 0;
  for (const t of texts) {
    total = total.plus(t);
    scale = Math.max(scale, scaleOf(t));
  }
  return total.toFixed(scale);
}

async function call(base, path, { method = 'GET', headers = {}, json } = {}) {
  const response = await request(base + path, {
    method,
    dispatcher: agent,
    headers: json === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const body = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`${path}: HTTP ${response.statusCode}`);
  return { body: parse(body), headers: response.headers };
}

/** A token per provider, logged in once and shared by concurrent requests. */
const tokens = new Map();
function token(provider, login) {
  const cached = tokens.get(provider.id);
  if (cached && (cached.pending || cached.expiresAt > Date.now() + 60_000))
    return cached.pending ?? cached.value;
  const pending = login().then(({ value, expiresAt }) => {
    tokens.set(provider.id, { value, expiresAt });
    return value;
  });
  tokens.set(provider.id, { pending });
  return pending;
}

const balance = (
  currency,
  network,
  total,
  available,
  components,
  depositAddresses,
  updatedAt,
  fetchedAt,
) => ({
  currency,
  network,
  total,
  available,
  components,
  depositAddresses,
  updatedAt,
  fetchedAt,
});

/** One TOTP generator per provider, made on first use (as balance-api makes one per adapter). */
const totps = new Map();
function totpOf(p) {
  let totp = totps.get(p.id);
  if (totp === undefined) {
    totp = new TOTP({
      secret: Secret.fromBase32(p.credentials.otpSecret),
      digits: 6,
      period: 30,
      algorithm: 'SHA1',
    });
    totps.set(p.id, totp);
  }
  return totp;
}

const readers = {
  async pik(p) {
    const bearer = await token(p, async () => {
      const { body } = await call(p.baseUrl, '/api/v1/auth/token', {
        method: 'POST',
        json: p.credentials,
      });
      return {
        value: body.data.accessToken,
        expiresAt: Date.now() + Number(text(body.data.expiresIn)) * 1000,
      };
    });
    const { body } = await call(p.baseUrl, '/api/v1/balance/list', {
      headers: { authorization: `Bearer ${bearer}` },
    });
    const fetchedAt = new Date().toISOString();
    return body.data.map((r) => ({
      id: `${p.id}:${r.balanceNo}`,
      name: r.accountName,
      type: r.accountType,
      status: r.status,
      suppressed: false,
      balances: [
        balance(
          r.currencyCode.toUpperCase(),
          r.networkCode || null,
          text(r.balance),
          text(r.availableBalance),
          [
            { kind: 'FROZEN', amount: text(r.frozenBalance) },
            { kind: 'PENDING', amount: text(r.pendingBalance) },
          ],
          [],
          new Date(r.lastChangeTime).toISOString(),
          fetchedAt,
        ),
      ],
    }));
  },
  async 'asset-accounts'(p) {
    const totp = totpOf(p);
    const bearer = await token(p, async () => {
      const otp = totp.generate();
      const { body } = await call(p.baseUrl, '/api/v1/public/auth/login', {
        method: 'POST',
        headers: { otp },
        json: { username: p.credentials.username, password: p.credentials.password, otp },
      });
      const exp = JSON.parse(Buffer.from(body.token.split('.')[1], 'base64url').toString()).exp;
      return { value: body.token, expiresAt: exp * 1000 - 30_000 };
    });
    const { body } = await call(p.baseUrl, '/api/v1/customer/accounts/balances', {
      headers: { authorization: `Bearer ${bearer}`, otp: totp.generate() },
    });
    const fetchedAt = new Date().toISOString();
    return body.details.map((d) => ({
      id: `${p.id}:${text(d.id)}`,
      name: null,
      type: null,
      status: null,
      suppressed: d.bSuppressed === true,
      balances: [
        balance(
          d.asset.toUpperCase(),
          null,
          text(d.totalBalance),
          text(d.availableBalance),
          [{ kind: 'PENDING', amount: text(d.pendingBalance) }],
          [],
          null,
          fetchedAt,
        ),
      ],
    }));
  },
  async merchant(p) {
    const bearer = await token(p, async () => {
      const { body } = await call(p.baseUrl, '/v2/auth/session', {
        method: 'POST',
        json: { ClientId: p.credentials.clientId, ClientSecret: p.credentials.clientSecret },
      });
      return {
        value: body.ResponseData.SessionToken,
        expiresAt: Date.now() + Number(text(body.ResponseData.ExpiresIn)) * 1000,
      };
    });
    const { body, headers } = await call(p.baseUrl, '/v2/account/balance', {
      headers: { authorization: `Bearer ${bearer}` },
    });
    if (headers['x-refresh-token'])
      tokens.set(p.id, { value: headers['x-refresh-token'], expiresAt: Date.now() + 1_800_000 });
    const fetchedAt = new Date().toISOString();
    return body.ResponseData.map((e) => ({
      id: `${p.id}:${text(e.Id)}`,
      name: e.Name,
      type: null,
      status: null,
      suppressed: false,
      balances: [
        balance(
          e.Currency.toUpperCase(),
          null,
          e.Balance,
          e.AvailableBalance,
          [{ kind: 'RESERVED', amount: e.ReservedAmount }],
          [],
          null,
          fetchedAt,
        ),
      ],
    }));
  },
  async wallet(p) {
    const { body } = await call(p.baseUrl, '/v2/balance', {
      method: 'POST',
      headers: { 'x-api-key': p.credentials.apiKey },
      json: { walletId: p.walletId },
    });
    const fetchedAt = new Date().toISOString();
    return [
      {
        id: `${p.id}:${p.walletId}`,
        name: null,
        type: null,
        status: null,
        suppressed: false,
        balances: body.data.map((a) =>
          balance(
            a.asset.toUpperCase(),
            null,
            sum([a.balance, a.holdBalance, a.lockBalance]),
            a.balance,
            [
              { kind: 'HOLD', amount: a.holdBalance },
              { kind: 'LOCKED', amount: a.lockBalance },
              { kind: 'REFERRAL', amount: a.referralBalance },
            ],
            Object.entries(a.depositAddress ?? {}).map(([network, d]) => ({
              network,
              address: d.address,
              memo: d.memo ?? null,
            })),
            null,
            fetchedAt,
          ),
        ),
      },
    ];
  },
  async prepaid(p) {
    const basic = Buffer.from(`${p.credentials.devKey}:${p.credentials.devSecret}`).toString(
      'base64',
    );
    const { body } = await call(p.baseUrl, '/v1/balance', {
      headers: { authorization: `Basic ${basic}` },
    });
    const total = new Decimal(text(body.total_balance10000)).div(10000);
    const gift = new Decimal(text(body.gift_balance10000)).div(10000);
    return [
      {
        id: `${p.id}:default`,
        name: null,
        type: null,
        status: null,
        suppressed: false,
        balances: [
          balance(
            (p.currency ?? 'CNY').toUpperCase(),
            null,
            total.toFixed(),
            total.toFixed(),
            [{ kind: 'GIFT', amount: gift.toFixed() }],
            [],
            null,
            new Date().toISOString(),
          ),
        ],
      },
    ];
  },
};

const KINDS = {
  pik: 'PIK',
  'asset-accounts': 'ASSET_ACCOUNTS',
  merchant: 'MERCHANT',
  wallet: 'WALLET',
  prepaid: 'PREPAID',
};

async function dashboard() {
  const settled = await Promise.allSettled(providers.map((p) => readers[p.kind](p)));
  const sums = new Map();
  const missing = [];
  const out = settled.map((result, index) => {
    const p = providers[index];
    if (result.status === 'rejected') missing.push(p.id);
    const accounts = result.status === 'fulfilled' ? result.value : null;
    for (const account of accounts ?? []) {
      for (const b of account.balances) {
        const entry = sums.get(b.currency) ?? { total: [], available: [] };
        entry.total.push(b.total);
        entry.available.push(b.available);
        sums.set(b.currency, entry);
      }
    }
    return { id: p.id, kind: KINDS[p.kind], name: p.name, accounts };
  });
  const currencies = [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, entry]) => ({
      currency,
      total: sum(entry.total),
      available: sum(entry.available),
    }));
  return {
    data: {
      providers: out,
      totals: { complete: missing.length === 0, missingProviders: missing, currencies },
    },
  };
}

const server = createServer(async (req, res) => {
  for await (const _ of req);
  const body = JSON.stringify(await dashboard());
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`baseline listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
