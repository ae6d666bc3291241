import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallLog } from '../src/sandbox/call-log.js';
import { createSandboxBalanceEditor, createSandboxControl } from '../src/sandbox/control.js';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { createSandboxFaultRegistry } from '../src/sandbox/faults.js';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('the sandbox control call that changes a demo balance', () => {
  let app: TestApp;
  let data: SandboxData;
  let control: ReturnType<typeof createSandboxControl>;

  const call = (method: string, path: string, body = '') => {
    const response = control(method, new URL(`http://sandbox${path}`), body);
    return { status: response.status, json: JSON.parse(response.body ?? 'null') };
  };
  const pikTotals = async () => {
    const result = await app.query(
      '{ provider(id: "pik-main") { balances { currency total available account { upstreamId } } } }',
    );
    const provider = result.data?.provider as { balances: Record<string, unknown>[] } | undefined;
    return provider?.balances ?? [];
  };

  beforeAll(async () => {
    data = createDemoSandboxData();
    app = await startTestApp({ data, kinds: ['pik'] });
    control = createSandboxControl({
      kinds: ['pik'],
      faults: createSandboxFaultRegistry(['pik'], ['pik']),
      calls: createCallLog({ recordCalls: false }),
      balances: createSandboxBalanceEditor(data.pik),
    });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('changes, adds and removes PIK accounts, and the simulator answers with them at once', async () => {
    expect(
      call(
        'PUT',
        '/_sandbox/balances/pik/PIK-USD-001',
        '{"total":"1600.25","available":"1300.25"}',
      ),
    ).toEqual({
      status: 200,
      json: {
        balance: {
          account: 'PIK-USD-001',
          currency: 'USD',
          total: '1600.25',
          available: '1300.25',
        },
      },
    });
    expect(
      call('PUT', '/_sandbox/balances/pik/PIK-GBP-010', '{"currency":"gbp","total":"10.00"}'),
    ).toMatchObject({ status: 201, json: { balance: { currency: 'GBP', available: '10.00' } } });
    expect(call('DELETE', '/_sandbox/balances/pik/PIK-ETH-003')).toEqual({
      status: 200,
      json: { removed: 'PIK-ETH-003' },
    });
    const balances = await pikTotals();
    expect(balances).toContainEqual({
      currency: 'USD',
      total: '1600.25',
      available: '1300.25',
      account: { upstreamId: 'PIK-USD-001' },
    });
    expect(balances).toContainEqual({
      currency: 'GBP',
      total: '10.00',
      available: '10.00',
      account: { upstreamId: 'PIK-GBP-010' },
    });
    expect(balances.map((balance) => balance.currency)).not.toContain('ETH');
    expect(call('GET', '/_sandbox/balances/pik').json.balances).toHaveLength(4);
  });

  it('says what it expected when a change is wrong', () => {
    expect(call('PUT', '/_sandbox/balances/pik/PIK-USD-001', '{"total":1.5}')).toEqual({
      status: 400,
      json: {
        message:
          'total: expected an amount as a string in plain decimal notation such as "1500.25"',
      },
    });
    expect(call('PUT', '/_sandbox/balances/pik/PIK-NEW-1', '{"total":"1"}')).toEqual({
      status: 400,
      json: {
        message:
          'no PIK account "PIK-NEW-1": to add it, give its "currency" too, e.g. {"currency":"GBP","total":"10.00"}',
      },
    });
    expect(call('DELETE', '/_sandbox/balances/pik/PIK-NONE')).toEqual({
      status: 404,
      json: { message: 'no PIK account "PIK-NONE"' },
    });
    expect(call('POST', '/_sandbox/balances/pik/PIK-USD-001').status).toBe(405);
  });
});

describe('the sandbox server', () => {
  it('serves the balance editor on its control endpoint, so a running sandbox changes a demo balance', async () => {
    const app = await startTestApp({ kinds: ['pik'] });
    try {
      const put = await fetch(`${app.sandbox.controlUrl}/balances/pik/PIK-USD-001`, {
        method: 'PUT',
        body: '{"total":"1600.25","available":"1300.25"}',
      });
      expect(put.status).toBe(200);
      const result = await app.query(
        '{ provider(id: "pik-main") { balances(currencies: ["USD"]) { total available } } }',
      );
      expect(result.data).toEqual({
        provider: { balances: [{ total: '1600.25', available: '1300.25' }] },
      });
    } finally {
      await app.close();
    }
  });
});
