/**
 * The README's example `rest` configurations: the sandbox's prepaid, wallet (API key) and pik
 * providers written as `rest` providers. test/rest-equivalence.test.ts holds them to give exactly
 * what the built-in kinds give.
 */

/** A prepaid provider (Basic dev key, "× 10000" integers, float fallbacks) as `rest`. */
export function prepaidAsRest(
  baseUrl: string,
  options: { id?: string; currency?: string; devKey: string; devSecret: string },
): Record<string, unknown> {
  const scaled = (field: string) => ({ at: `/${field}`, minorUnits: 4 });
  return {
    id: options.id ?? 'sms',
    kind: 'rest',
    name: 'SMS credit',
    baseUrl,
    credentials: { devKey: options.devKey, devSecret: options.devSecret },
    paths: { balances: '/v1/balance' },
    auth: {
      type: 'basic',
      username: '{credentials.devKey}',
      password: '{credentials.devSecret}',
    },
    envelope: { codeAt: '/code' },
    errors: [
      {
        status: 401,
        code: 2002,
        means: 'UPSTREAM_AUTH_FAILED',
        message: 'the dev key has expired or was disabled',
      },
      { status: 401, means: 'UPSTREAM_AUTH_FAILED', message: 'the dev key or secret was rejected' },
      {
        status: 403,
        code: 2002,
        means: 'UPSTREAM_NOT_FOUND',
        message: 'the merchant account has been deleted',
      },
    ],
    mapping: {
      account: '',
      accountId: { const: 'default' },
      currency: { const: options.currency ?? 'CNY' },
      total: {
        firstOf: [
          scaled('total_balance10000'),
          { sum: [scaled('balance10000'), scaled('gift_balance10000')] },
          '/total_balance',
          {
            sum: [
              { firstOf: [scaled('balance10000'), '/balance'] },
              { firstOf: [scaled('gift_balance10000'), '/gift_balance'] },
            ],
          },
        ],
      },
      available: 'total',
      components: {
        GIFT: { firstOf: [scaled('gift_balance10000'), '/gift_balance'], optional: true },
      },
    },
  };
}

/** A wallet provider with an API key (POST with the wanted assets, deposit addresses) as `rest`. */
export function walletAsRest(
  baseUrl: string,
  options: { id?: string; walletId: string; apiKey: string },
): Record<string, unknown> {
  return {
    id: options.id ?? 'treasury',
    kind: 'rest',
    name: 'Crypto treasury',
    baseUrl,
    credentials: { apiKey: options.apiKey },
    paths: { balances: '/v2/balance' },
    auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', value: '{credentials.apiKey}' },
    request: {
      method: 'POST',
      body: { walletId: options.walletId },
      currencies: { in: 'body', at: '/assets' },
    },
    errors: [
      { status: 401, means: 'UPSTREAM_AUTH_FAILED', message: 'the provider rejected the API key' },
      {
        status: 404,
        means: 'UPSTREAM_NOT_FOUND',
        message: 'the wallet was not found, or these credentials do not own it',
      },
    ],
    mapping: {
      account: '',
      accountId: { const: options.walletId },
      balances: '/data',
      currency: '/asset',
      available: '/balance',
      total: { sum: ['available', 'HOLD', 'LOCKED'] },
      components: {
        HOLD: { at: '/holdBalance', optional: true },
        LOCKED: { at: '/lockBalance', optional: true },
        REFERRAL: { at: '/referralBalance', optional: true },
      },
      depositAddresses: {
        at: '/depositAddress',
        keys: 'network',
        address: '/address',
        memo: '/memo',
      },
    },
  };
}

/** A pik provider (login for a bearer token, the balance list in an envelope) as `rest`. */
export function pikAsRest(
  baseUrl: string,
  options: { id?: string; appId: string; appSecret: string },
): Record<string, unknown> {
  return {
    id: options.id ?? 'pik-main',
    kind: 'rest',
    name: 'PIK Global Account',
    baseUrl,
    credentials: { appId: options.appId, appSecret: options.appSecret },
    paths: { login: '/api/v1/auth/token', balances: '/api/v1/balance/list' },
    auth: {
      type: 'login',
      body: { appId: '{credentials.appId}', appSecret: '{credentials.appSecret}' },
      token: '/data/accessToken',
      lifetime: { secondsAt: '/data/expiresIn' },
      send: { header: 'Authorization', value: 'Bearer {token}' },
    },
    // A read of one currency asks Get Balance by Currency, whose data is one record and whose
    // 404 means "no such balance", as the built-in kind does; any other read, the list.
    request: {
      currencies: {
        in: 'path',
        path: '/api/v1/balance/{currency}',
        account: '/data',
        absent: [404],
      },
    },
    envelope: { statusAt: '/code', success: [200] },
    mapping: {
      accounts: '/data',
      accountId: '/balanceNo',
      accountName: '/accountName',
      accountType: '/accountType',
      accountStatus: '/status',
      currency: '/currencyCode',
      network: '/networkCode',
      total: '/balance',
      available: '/availableBalance',
      components: { FROZEN: '/frozenBalance', PENDING: '/pendingBalance' },
      updatedAt: '/lastChangeTime',
    },
  };
}

/**
 * A merchant provider (a session login in an envelope that decides under any status, a token the
 * provider rotates with x-refresh-token) as `rest`. Not one of the README's three, but the same
 * equivalence holds, and it drives rotation through a real simulator.
 */
export function merchantAsRest(
  baseUrl: string,
  options: { id?: string; clientId: string; clientSecret: string },
): Record<string, unknown> {
  return {
    id: options.id ?? 'acquirer',
    kind: 'rest',
    name: 'Acquirer',
    baseUrl,
    credentials: { clientId: options.clientId, clientSecret: options.clientSecret },
    paths: { login: '/v2/auth/session', balances: '/v2/account/balance' },
    auth: {
      type: 'login',
      body: { ClientId: '{credentials.clientId}', ClientSecret: '{credentials.clientSecret}' },
      token: '/ResponseData/SessionToken',
      lifetime: { secondsAt: '/ResponseData/ExpiresIn' },
      rotateHeader: 'x-refresh-token',
    },
    envelope: { statusAt: '/ResponseCode', success: [200] },
    errors: [
      { code: 401, call: 'balances', means: 'relogin' },
      {
        code: 403,
        call: 'balances',
        means: 'UPSTREAM_AUTH_FAILED',
        message: 'a session token works only from the client IP address that obtained it',
        dropsSession: true,
      },
      { code: [404, 410], means: 'UPSTREAM_NOT_FOUND', message: 'no merchant account' },
    ],
    mapping: {
      accounts: '/ResponseData',
      accountId: '/Id',
      accountName: '/Name',
      currency: '/Currency',
      total: '/Balance',
      available: '/AvailableBalance',
      components: { RESERVED: '/ReservedAmount' },
    },
  };
}
