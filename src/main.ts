import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/messages.js';
import { onShutdown } from './shutdown.js';

const USAGE = `Usage: balance-api <command> [options]

Commands:
  serve [--config FILE] [--port N] [--host H]
      Serve GraphQL (and GraphiQL) at /graphql. The configuration file comes from --config or
      BALANCE_API_CONFIG; with neither, the server runs on the built-in sandbox with demo data.
      PORT and HOST override the file's server section; --port and --host override those.
  sandbox [--port N] [--host H] [--fault KIND=FAULT ...] [--latency-ms N] [--no-record]
      Run the provider simulators alone, one base URL per kind under /<kind>, and a control
      endpoint under /_sandbox (GET, PUT, DELETE /_sandbox/faults/<kind>; GET /_sandbox/calls).
      Each --fault makes one kind fail: FAULT is a status (503), 429[:SECONDS] (digits beyond a
      number are sent as written), hang, reset, truncated, invalid-json, auth-once, or a hostile
      answer: reset-body, huge-amount, duplicate-key, bad-token or long-token[:LENGTH] (the token
      faults meet logins only), then optionally xN (only N calls) and +login (logins too), e.g.
      --fault pik=503x2 --fault wallet=429:30 --fault merchant=auth-once.
      --latency-ms N delays every answer by N ms; --no-record keeps only counts
      (GET /_sandbox/stats), for long benchmarks.
  print-schema [--subgraph] [--out FILE] [--write]
      Print the GraphQL SDL (with --subgraph, the Federation subgraph SDL a gateway composes) on
      stdout, or write it to FILE. --write rewrites schema/schema.graphql, schema/subgraph.graphql
      and schema/operations/manifest.json (the trusted-documents manifest of the operations).
  hash-api-key
      Read an API key from standard input and print its SHA-256 in hex, for auth.apiKeys.

Metrics: GET /metrics (server.metrics in the configuration). Traces: serve sends OpenTelemetry
spans when OTEL_TRACES_EXPORTER is otlp or console, or OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set; the other OTEL_* variables configure them.
`;

/** What went wrong, said without a stack trace. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      out: { type: 'string' },
      subgraph: { type: 'boolean' },
      write: { type: 'boolean' },
      fault: { type: 'string', multiple: true },
      'latency-ms': { type: 'string' },
      'no-record': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [command = 'serve', ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const port = values.port === undefined ? undefined : parsePort(values.port);

  switch (command) {
    case 'serve': {
      // Before the application is built: its providers and server trace through it.
      await startTracingIfWanted();
      const { serve } = await import('./serve.js');
      await serve({ configPath: values.config, port, host: values.host });
      return;
    }
    case 'sandbox': {
      const { startSandbox } = await import('./sandbox/index.js');
      const { formatSandboxFault, parseSandboxFaultArgument, SandboxFaultError } = await import(
        './sandbox/faults.js'
      );
      const faults: import('./sandbox/faults.js').SandboxFaults = {};
      for (const argument of values.fault ?? []) {
        try {
          const { kind, fault } = parseSandboxFaultArgument(argument);
          if (faults[kind] !== undefined) {
            throw new SandboxFaultError(
              `"${argument}": ${kind} already has a fault; give one per kind`,
            );
          }
          faults[kind] = fault;
        } catch (error) {
          if (error instanceof SandboxFaultError) throw new UsageError(`--fault ${error.message}`);
          throw error;
        }
      }
      const latency = values['latency-ms'];
      if (latency !== undefined && !/^\d+$/.test(latency)) {
        throw new UsageError(
          `--latency-ms: expected a whole number of milliseconds, received "${latency}"`,
        );
      }
      const sandbox = await startSandbox({
        port: port ?? 4010,
        host: values.host ?? '127.0.0.1',
        faults,
        latencyMs: latency === undefined ? 0 : Number(latency),
        recordCalls: !values['no-record'],
      });
      const lines = [
        `balance-api sandbox listening on ${sandbox.origin}`,
        ...Object.keys(sandbox.simulators).map((kind) => `  ${kind}: ${sandbox.origin}/${kind}`),
        `  control: ${sandbox.controlUrl}`,
        ...Object.entries(sandbox.faults()).map(
          ([kind, fault]) => `  fault ${kind}=${formatSandboxFault(fault)}`,
        ),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      onShutdown(() => sandbox.close());
      return;
    }
    case 'print-schema': {
      const { printSchemaSdl, printSubgraphSdl } = await import('./graphql/index.js');
      if (values.write) {
        const { writeSchemaFiles } = await import('./schema-files.js');
        const { configJsonSchema } = await import('./config/json-schema.js');
        writeSchemaFiles(printSchemaSdl(), printSubgraphSdl(), configJsonSchema());
        return;
      }
      const sdl = values.subgraph ? printSubgraphSdl() : printSchemaSdl();
      if (values.out === undefined) process.stdout.write(sdl);
      else writeFileSync(values.out, sdl);
      return;
    }
    case 'hash-api-key': {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const key = Buffer.concat(chunks)
        .toString('utf8')
        .replace(/\r?\n$/, '');
      if (key === '') throw new UsageError('hash-api-key: expected the API key on standard input');
      process.stdout.write(`${createHash('sha256').update(key, 'utf8').digest('hex')}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/**
 * OpenTelemetry tracing, when the OTEL_* environment turns it on (CONTRACT.md "Tracing");
 * otherwise nothing of OpenTelemetry is loaded, exported or propagated.
 */
async function startTracingIfWanted(): Promise<void> {
  const { tracingWanted } = await import('./tracing/enabled.js');
  if (!tracingWanted(process.env)) return;
  const [{ startTracing }, { setProcessTracing }] = await Promise.all([
    import('./tracing/start.js'),
    import('./tracing/active.js'),
  ]);
  setProcessTracing(startTracing());
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    // Not echoed: a value in the wrong place may be a secret.
    throw new UsageError('--port: expected a port number from 0 to 65535');
  }
  return port;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`balance-api: the configuration is not valid.\n${error.message}\n`);
    process.exit(2);
  }
  if (
    error instanceof UsageError ||
    (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')
  ) {
    process.stderr.write(`balance-api: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const code = (error as { code?: unknown })?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const { address, port } = error as { address?: string; port?: number };
    process.stderr.write(
      `balance-api: cannot listen on ${address ?? '?'}:${port ?? '?'} (${code}); choose another with PORT or --port\n`,
    );
    process.exit(1);
  }
  process.stderr.write(
    `balance-api: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
