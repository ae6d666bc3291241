/**
 * When tracing is on (CONTRACT.md "Tracing"): OTEL_TRACES_EXPORTER is `otlp` or `console`, or
 * OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set. OpenTelemetry's own
 * switches still turn it off: OTEL_SDK_DISABLED=true, or `none` among the exporters. Nothing of
 * OpenTelemetry is loaded to decide it.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  if (exporters.includes('none')) return false;
  if (exporters.includes('otlp') || exporters.includes('console')) return true;
  return (
    (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim() !== '' ||
    (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? '').trim() !== ''
  );
}
