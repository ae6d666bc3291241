import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CellCounter, CellHistogram } from '../src/metrics/cells.js';

/**
 * The request path counts into cells that the registry reads when scraped: the text must be what
 * prom-client's own Counter and Histogram write for the same updates.
 */
describe('cell metrics', () => {
  it("write the text prom-client's Counter and Histogram write", async () => {
    const buckets = [0.005, 0.1, 1, 10];
    const theirs = new Registry();
    const ours = new Registry();
    const options = { name: 'calls_total', help: 'Calls.', labelNames: ['provider', 'route'] };
    const counter = new Counter({ ...options, registers: [theirs] });
    const cells = new CellCounter({ ...options, registry: ours });
    const timing = { name: 'call_seconds', help: 'Time "of" a call\\n.', labelNames: ['provider'] };
    const histogram = new Histogram({ ...timing, buckets, registers: [theirs] });
    const timed = new CellHistogram({ ...timing, buckets, registry: ours });

    const a = { provider: 'pik-main', route: 'balanceList' };
    const b = { provider: 'odd "id"\\', route: 'login' };
    for (const [labels, times] of [
      [a, 3],
      [b, 1],
    ] as const) {
      for (let i = 0; i < times; i += 1) {
        counter.inc(labels);
        cells.cell(labels).value += 1;
      }
    }
    // Bounds themselves fall in their own bucket (le is "less or equal").
    for (const value of [0, 0.005, 0.05, 1, 3, 10, 11, 600]) {
      histogram.observe({ provider: 'pik-main' }, value);
      timed.cell({ provider: 'pik-main' }).observe(value);
    }
    histogram.observe({ provider: 'sms' }, 0.2);
    timed.cell({ provider: 'sms' }).observe(0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(
      (await theirs.getMetricsAsJSON()).map((metric) => ({
        ...metric,
        values: metric.values.map((value) => {
          const { exemplar: _exemplar, ...rest } = value as typeof value & { exemplar?: unknown };
          return rest;
        }),
      })),
    );
  });

  it('is one series per label set, whoever takes its cell, and refuses labels it does not have', () => {
    const cells = new CellCounter({
      name: 'x_total',
      help: 'X.',
      labelNames: ['provider'],
      registry: new Registry(),
    });
    cells.cell({ provider: 'a' }).value += 1;
    cells.cell({ provider: 'a' }).value += 1;
    expect(cells.cell({ provider: 'a' }).value).toBe(2);
    expect(() => cells.cell({ route: 'a' })).toThrow('label provider missing');
    expect(() => cells.cell({ provider: 'b', route: 'b' })).toThrow(
      'x_total: expected the labels provider',
    );
  });
});
