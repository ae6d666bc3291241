import {
  json,
  jsonNumber,
  type ProviderKindSandbox,
  type SimRequest,
  type SimResponse,
  type Simulator,
  statusMessage,
} from '../../sandbox/simulator.js';
import { createPrepaidDemoData, type PrepaidSandboxData, prepaidDemoProviders } from './demo.js';

/** A prepaid merchant: its dev key pair and balances as "value × 10000" integers. */
export interface PrepaidMerchant {
  devKey: string;
  devSecret: string;
  balance10000: string;
  giftBalance10000: string;
  /**
   * The float fields as sent; by default derived from the integers. A test sets them to disagree
   * with the integers, as the seed warns they may.
   */
  floats?: { balance?: string; gift_balance?: string; total_balance?: string };
  /** A disabled key answers 2002/401; a deleted merchant 2002/403. */
  state?: 'active' | 'disabled' | 'deleted';
}

export interface PrepaidSimulatorOptions {
  merchants: PrepaidMerchant[];
}

export interface PrepaidSimulator extends Simulator {
  setMerchantState(devKey: string, state: NonNullable<PrepaidMerchant['state']>): void;
  /** 401 `{"code":2002,"message":"token expired or disabled"}`. */
  rejectAuth(request: SimRequest): SimResponse;
  /** The seed's error body: code 1000 for a 5xx, the status itself otherwise. */
  errorResponse(status: number): SimResponse;
}

/** The prepaid credit API of the seed: Basic auth, no login, integers times ten thousand. */
export function createPrepaidSimulator(options: PrepaidSimulatorOptions): PrepaidSimulator {
  const merchants = options.merchants.map((merchant) => ({ ...merchant }));

  function merchantOf(request: SimRequest) {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? header.match(/^Basic ([A-Za-z0-9+/=]+)$/) : null;
    if (!match?.[1]) return undefined;
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const devKey = decoded.slice(0, colon);
    const devSecret = decoded.slice(colon + 1);
    return merchants.find(
      (merchant) => merchant.devKey === devKey && merchant.devSecret === devSecret,
    );
  }

  return {
    kind: 'prepaid',
    amountFields: [
      'balance10000',
      'gift_balance10000',
      'balance',
      'gift_balance',
      'total_balance10000',
      'total_balance',
    ],
    setMerchantState(devKey, state) {
      for (const merchant of merchants) if (merchant.devKey === devKey) merchant.state = state;
    },
    rejectAuth: () => json(401, { code: 2002, message: 'token expired or disabled' }),
    // The seed: 1000 is "internal error, retry later", whatever the 5xx.
    errorResponse: (status) =>
      json(
        status,
        status >= 500
          ? { code: 1000, message: 'internal error, retry later' }
          : { code: status, message: statusMessage(status) },
      ),
    handle(request) {
      if (request.method !== 'GET' || request.path !== '/v1/balance') {
        return json(404, { code: 404, message: 'not found' });
      }
      const merchant = merchantOf(request);
      if (merchant === undefined) return json(401, { code: 2001, message: 'invalid token' });
      if (merchant.state === 'disabled')
        return json(401, { code: 2002, message: 'token expired or disabled' });
      if (merchant.state === 'deleted')
        return json(403, { code: 2002, message: 'merchant deleted' });
      const balance = BigInt(merchant.balance10000);
      const gift = BigInt(merchant.giftBalance10000);
      const total = balance + gift;
      return json(200, {
        balance10000: jsonNumber(balance.toString()),
        gift_balance10000: jsonNumber(gift.toString()),
        balance: jsonNumber(merchant.floats?.balance ?? tenThousandths(balance)),
        gift_balance: jsonNumber(merchant.floats?.gift_balance ?? tenThousandths(gift)),
        total_balance10000: jsonNumber(total.toString()),
        total_balance: jsonNumber(merchant.floats?.total_balance ?? tenThousandths(total)),
      });
    },
  };
}

/** 143456n -> "14.3456", exactly, as the float field would ideally read. */
function tenThousandths(units: bigint): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(5, '0');
  const whole = digits.slice(0, -4);
  const fraction = digits.slice(-4).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** The prepaid kind's sandbox part: its simulator, demo data and demo providers. */
export const prepaidSandbox: ProviderKindSandbox<PrepaidSandboxData, PrepaidSimulator> = {
  createSimulator: (data, _clock) => createPrepaidSimulator(data),
  demoData: createPrepaidDemoData,
  demoProviders: prepaidDemoProviders,
  redactHeaders: ['authorization'],
  isLogin: () => false,
};
