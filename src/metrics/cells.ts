import type * as PromClient from 'prom-client';

/**
 * Counters and histograms whose series are counted in plain fields ("cells") on the request path
 * and read by prom-client's registry only when it is scraped. prom-client's own `inc` and
 * `observe` check and hash the labels on every update, several microseconds each once a few label
 * shapes share them; a request updates some thirty series. The registry takes any metric that
 * gives its name, help, type and values (`registerMetric`); the text is prom-client's own.
 */

export type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  labels: Record<string, string | number>;
  /** Labels written after `labels`, formatted once per object (the series' own). */
  sharedLabels?: Labels;
  value: number;
  metricName?: string;
}

interface CellMetricOptions {
  name: string;
  help: string;
  labelNames: readonly string[];
  registry: PromClient.Registry;
}

/** The series' key: its label values in the metric's label order. */
function keyOf(labelNames: readonly string[], labels: Labels): string {
  let key = '';
  for (const name of labelNames) {
    const value = labels[name];
    if (value === undefined) throw new Error(`label ${name} missing`);
    key += `${value}\u0000`;
  }
  return key;
}

/** One series of a counter. */
export interface CounterCell {
  readonly labels: Labels;
  /** Add to it: `cell.value += 1`. */
  value: number;
}

abstract class CellMetric<C extends { labels: Labels }> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: string;
  readonly aggregator = 'sum';
  protected readonly labelNames: readonly string[];
  protected cells = new Map<string, C>();

  constructor(options: CellMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The registry reads `name`, `help`, `type`, `aggregator`, `get()` and `reset()`.
    options.registry.registerMetric(this as unknown as PromClient.Counter);
  }

  /** The series of `labels` (exactly the metric's label names), made at its first use. */
  cell(labels: Labels): C {
    const key = keyOf(this.labelNames, labels);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      if (Object.keys(labels).length !== this.labelNames.length) {
        throw new Error(`${this.name}: expected the labels ${this.labelNames.join(', ')}`);
      }
      cell = this.create({ ...labels });
      this.cells.set(key, cell);
    }
    return cell;
  }

  protected abstract create(labels: Labels): C;
  protected abstract values(): MetricValue[];

  /** What the registry writes as text. */
  async getForPromString() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.values(),
      aggregator: this.aggregator,
    };
  }

  /** The same, each value's labels whole (getMetricsAsJSON). */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ labels, sharedLabels, ...rest }) => ({
        ...rest,
        labels: { ...sharedLabels, ...labels },
      })),
    };
  }

  reset(): void {
    this.cells = new Map();
  }
}

export class CellCounter extends CellMetric<CounterCell> {
  readonly type = 'counter';

  protected create(labels: Labels): CounterCell {
    return { labels, value: 0 };
  }

  protected values(): MetricValue[] {
    return [...this.cells.values()].map((cell) => ({
      labels: {},
      sharedLabels: cell.labels,
      value: cell.value,
    }));
  }
}

/** One series of a histogram. */
export interface HistogramCell {
  readonly labels: Labels;
  observe(value: number): void;
}

class HistogramSeries implements HistogramCell {
  /** Observations per bucket (not cumulative); the last one is +Inf's own. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    const { bounds } = this;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index += 1;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class CellHistogram extends CellMetric<HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(options: CellMetricOptions & { buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  protected create(labels: Labels): HistogramSeries {
    return new HistogramSeries(labels, this.bounds);
  }

  /** As prom-client writes a histogram: cumulative buckets, +Inf, sum and count per series. */
  protected values(): MetricValue[] {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.cells.values()) {
      const sharedLabels = series.labels;
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += series.counts[index] as number;
        values.push({ labels: { le: bound }, sharedLabels, value: cumulative, metricName: bucket });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucket },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return values;
  }
}
