import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BalanceServer, startBalanceServer } from '../src/server.js';
import { startTestApp, type TestApp } from './helpers/app.js';

const CANARY = 'CANARY-7d1f0c';
const QUERY =
  'query ($min: Decimal) { provider(id: "pik-main") { balances(minTotal: $min) { total } } }';

interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

describe('a variable that does not coerce, over HTTP', () => {
  let app: TestApp;
  let server: BalanceServer;

  beforeAll(async () => {
    app = await startTestApp();
    server = await startBalanceServer({
      runtime: app.runtime,
      server: { ...app.config.server, port: 0 },
    });
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  async function post(query: string, variables: Record<string, unknown>): Promise<Answer> {
    const response = await fetch(`${server.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  /** The one error of a refused request, checked to echo nothing of what was sent. */
  async function refusal(query: string, variables: Record<string, unknown>): Promise<string> {
    app.sandbox.clearCalls();
    const { status, body } = await post(query, variables);
    expect(status).toBe(400);
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    expect(JSON.stringify(body)).not.toContain(CANARY);
    expect(app.sandbox.calls()).toHaveLength(0);
    const message = body.errors?.[0]?.message ?? '';
    expect(message.length).toBeLessThan(400);
    return message;
  }

  it('names a Decimal variable and what was expected, without echoing a huge value', async () => {
    const huge = `${CANARY}${'x'.repeat(600_000)}${CANARY}`;
    expect(await refusal(QUERY, { min: huge })).toBe(
      'Variable "$min" got invalid value (a string of 600026 characters, too long to quote); Expected type Decimal. Decimal must be a string in plain decimal notation such as "12.50" or "-0.001"; received a string that is not',
    );
  });

  it('does not quote a Decimal that is not a number when it is longer than a short bound', async () => {
    const message = await refusal(QUERY, { min: `sk_live_${CANARY}_0123456789abcdef` });
    expect(message).toMatch(/^Variable "\$min" got invalid value \(a string of 38 characters/);
    expect(message).toContain('Expected type Decimal');
  });

  it('gives the sizes of a huge run of digits, not the digits', async () => {
    const message = await refusal(QUERY, { min: `${'1'.repeat(500_000)}.5` });
    expect(message).toBe(
      'Variable "$min" got invalid value (a string of 500002 characters, too long to quote); Expected type Decimal. Decimal must be an amount of at most 40 digits before the point and 40 after; received one outside those bounds (500000 digits before the point, 1 after)',
    );
  });

  it('describes an object or a list given for a Decimal without quoting it', async () => {
    const object = await refusal(QUERY, { min: { secret: CANARY, more: 'y'.repeat(100_000) } });
    expect(object).toMatch(/^Variable "\$min" got invalid value \(an object, too long to quote\)/);
    const list = await refusal(QUERY, { min: [CANARY, 'z'.repeat(100_000)] });
    expect(list).toMatch(/^Variable "\$min" got invalid value \(a list, too long to quote\)/);
  });

  it('bounds the message of a String variable too', async () => {
    const message = await refusal(
      'query ($c: [String!]) { providers { accounts { balances(currencies: $c) { total } } } }',
      { c: [{ token: `${CANARY}${'q'.repeat(200_000)}` }] },
    );
    expect(message).toBe(
      'Variable "$c" got invalid value (an object, too long to quote); Expected type [String!].',
    );
  });

  it('still quotes a short value, as before', async () => {
    expect(await refusal(QUERY, { min: '12,50' })).toBe(
      'Variable "$min" got invalid value "12,50"; Expected type Decimal. Decimal must be a string in plain decimal notation such as "12.50" or "-0.001"; received a string that is not ("12,50")',
    );
  });
});
