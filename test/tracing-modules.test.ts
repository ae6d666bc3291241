import { describe, expect, it } from 'vitest';
import { recordServeModules, writeOneProviderConfig } from './helpers/modules.js';

/**
 * Tracing off costs nothing: `balance-api serve` loads no OpenTelemetry module unless the OTEL_*
 * environment turns tracing on (and then it does, which shows the recorders would see them). Both
 * kinds of load are recorded: ES modules as they are loaded, CommonJS modules (a require inside a
 * package included) when the process exits; /metrics is scraped once, so the process metrics are
 * loaded too.
 */
async function modulesLoadedByServe(env: Record<string, string>): Promise<string[]> {
  const configPath = writeOneProviderConfig('balance-otel-modules-');
  const run = await recordServeModules(['--config', configPath], env, async (origin) => {
    const metrics = await fetch(`${origin}/metrics`);
    expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
  });
  expect(run.exitCode).toBe(0);
  // The CommonJS record is written at exit: it has the application's packages.
  expect(run.commonJs.some((path) => path.includes('/node_modules/undici/'))).toBe(true);
  return [...run.esm, ...run.commonJs];
}

const isOpenTelemetry = (path: string) => path.includes('/node_modules/@opentelemetry/');

describe('OpenTelemetry at start', () => {
  it('is not loaded when no OTEL_* variable turns tracing on', async () => {
    const loaded = await modulesLoadedByServe({
      // Set, but none of them turns tracing on.
      OTEL_SERVICE_NAME: 'balance-api',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_TRACES_SAMPLER: 'always_on',
    });
    expect(loaded.some((url) => url.endsWith('/dist/serve.js'))).toBe(true);
    expect(loaded.filter(isOpenTelemetry)).toEqual([]);
    // Of the tracing modules, only those that import nothing of OpenTelemetry.
    const tracing = loaded.filter((url) => url.includes('/dist/tracing/'));
    expect(tracing.map((url) => url.slice(url.lastIndexOf('/') + 1)).sort()).toEqual([
      'active.js',
      'enabled.js',
    ]);
  });

  it('is loaded when OTEL_TRACES_EXPORTER says otlp', async () => {
    const loaded = await modulesLoadedByServe({
      OTEL_TRACES_EXPORTER: 'otlp',
      // Nothing listens there; no span is made before the process stops.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(loaded.some((url) => url.includes('/@opentelemetry/sdk-node/'))).toBe(true);
    expect(loaded.some((url) => url.includes('/@opentelemetry/api/'))).toBe(true);
  });
});

describe('when tracing is on', () => {
  it('follows CONTRACT.md: an otlp or console exporter, or an OTLP endpoint', async () => {
    const { tracingWanted } = await import('../src/tracing/enabled.js');
    expect(tracingWanted({})).toBe(false);
    expect(
      tracingWanted({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }),
    ).toBe(false);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'console' })).toBe(true);
    expect(tracingWanted({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe(false);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toBe(
      true,
    );
    expect(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBe(false);
    // OpenTelemetry's own off switches still hold.
    expect(
      tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    ).toBe(false);
    expect(tracingWanted({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBe(false);
  });
});
