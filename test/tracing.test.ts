import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_KINDS } from '../src/providers/kinds.js';
import { ledgerlyRestProvider } from '../src/providers/rest/demo.js';
import { DASHBOARD_QUERY, demoConfigDocument } from './helpers/app.js';
import { canaryCredentials, canaryProviders, canarySandboxData } from './helpers/canaries.js';
import { type LiveApp, postGraphQL, startLiveApp, subscribeSse } from './helpers/live.js';
import {
  callerContext,
  idOf,
  parentOf,
  spanText,
  traceOf,
  useInMemoryTracing,
} from './helpers/tracing.js';

/**
 * Traces (CONTRACT.md "Tracing"), with OpenTelemetry's SDK in this process and an in-memory
 * exporter: the GraphQL operation continues the caller's trace, each provider read and each
 * upstream call is a span of it, every upstream call carries its `traceparent`, a subscription
 * poll is a trace of its own, and no secret, token or body is in any span.
 */

const exporter = useInMemoryTracing();

const CANARY = 'canary2t';
const CREDENTIALS: Record<string, Record<string, string>> = canaryCredentials(CANARY);

const canaryData = () => canarySandboxData(CREDENTIALS);

/**
 * Every kind's demo provider with canary credentials, and a rest provider whose API key goes in
 * the query string (Ledgerly refuses it): a credential in a URL must never reach a span.
 */
function canaryConfig(extra: Record<string, unknown> = {}) {
  return (baseUrl: (kind: string) => string) => ({
    providers: [
      ...canaryProviders(baseUrl, CREDENTIALS, extra, PROVIDER_KINDS),
      {
        ...ledgerlyRestProvider(baseUrl('rest')),
        id: 'keyed',
        credentials: { key: `${CANARY}-query-key` },
        auth: { type: 'apiKey', in: 'query', name: 'api_key', value: '{credentials.key}' },
        // Ledgerly's rows but those that log in again: this provider has no session.
        errors: [],
        ...extra,
      },
    ],
  });
}

const readSpans = (spans: ReadableSpan[]) => spans.filter((span) => span.name === 'provider read');
const clientSpans = (spans: ReadableSpan[]) =>
  spans.filter((span) => span.kind === SpanKind.CLIENT);

describe('the spans of one query', () => {
  let app: LiveApp;

  beforeAll(async () => {
    app = await startLiveApp({ data: canaryData(), configDocument: canaryConfig() });
  });
  afterAll(() => app?.close());

  it("continue the caller's trace: the operation, each provider read, each upstream call with its traceparent", async () => {
    const caller = callerContext();
    app.sandbox.clearCalls();
    const { status, body } = await postGraphQL(app.url, DASHBOARD_QUERY, {
      traceparent: caller.traceparent,
    });
    expect(status).toBe(200);
    // Only the provider whose key Ledgerly refuses fails.
    expect(body.errors).toHaveLength(1);
    const spans = exporter.getFinishedSpans();

    const [operation, ...others] = spans.filter((span) => span.kind === SpanKind.SERVER);
    expect(others).toEqual([]);
    expect(operation?.name).toBe('query Dashboard');
    expect(traceOf(operation as ReadableSpan)).toBe(caller.traceId);
    expect(parentOf(operation as ReadableSpan)).toBe(caller.spanId);
    expect(operation?.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Dashboard',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    });
    for (const span of spans) expect(traceOf(span), span.name).toBe(caller.traceId);

    // One read per provider, under the operation.
    const reads = readSpans(spans);
    const providers = [
      'pik-main',
      'ops',
      'acquirer',
      'treasury',
      'sms',
      'voice',
      'ledgerly',
      'keyed',
    ];
    expect(reads.map((span) => span.attributes.provider).sort()).toEqual([...providers].sort());
    for (const read of reads) {
      expect(parentOf(read)).toBe(idOf(operation as ReadableSpan));
      expect(read.attributes).toMatchObject({ tenant: 'default', source: 'upstream' });
      // Ledgerly answers the key it does not know with an error of its envelope.
      expect(read.attributes.outcome).toMatch(
        read.attributes.provider === 'keyed' ? /^UPSTREAM_[A-Z_]+$/ : /^ok$/,
      );
    }

    // Each upstream call under its read, as the HTTP client conventions name it.
    const calls = clientSpans(spans);
    const sandboxPort = Number(new URL(app.sandbox.origin).port);
    const readOf = new Map(reads.map((read) => [idOf(read), read]));
    for (const call of calls) {
      const read = readOf.get(parentOf(call) as string);
      expect(read, call.name).toBeDefined();
      expect(call.attributes.provider).toBe(read?.attributes.provider);
      expect(call.attributes).toMatchObject({
        'server.address': '127.0.0.1',
        'server.port': sandboxPort,
      });
      expect(call.attributes['http.request.method']).toMatch(/^(GET|POST)$/);
      expect(call.attributes['http.response.status_code']).toBeTypeOf('number');
      expect(call.attributes['url.template']).toMatch(/^\/[a-z-]+\/[^?]*$/);
      expect(call.name).toBe(
        `${call.attributes['http.request.method']} ${call.attributes['url.template']}`,
      );
      expect(call.attributes).not.toHaveProperty('url.full');
      // The tenant and the kind are on the read above it, once.
      expect(call.attributes).not.toHaveProperty('tenant');
      expect(call.attributes).not.toHaveProperty('kind');
    }
    const routes = (provider: string) =>
      calls
        .filter((call) => call.attributes.provider === provider)
        .map(
          (call) =>
            `${call.attributes.route} ${call.attributes['url.template']} ${call.attributes.outcome}`,
        );
    expect(routes('pik-main')).toEqual([
      'login /pik/api/v1/auth/token ok',
      'balanceList /pik/api/v1/balance/list ok',
    ]);
    // The OAuth2 token request goes through the same transport as the reads.
    expect(routes('ledgerly')[0]).toMatch(/^login \/rest\/\S+ ok$/);
    expect(routes('keyed')).toEqual([
      `balances /rest/v1/accounts ${reads.find((read) => read.attributes.provider === 'keyed')?.attributes.outcome}`,
    ]);

    // Every call the sandbox answered carried the trace: this trace, the call's own span.
    const recorded = app.sandbox.calls();
    expect(recorded).toHaveLength(calls.length);
    const sent = recorded.map((call) => call.headers.traceparent);
    expect(sent.sort()).toEqual(
      calls.map((call) => `00-${caller.traceId}-${idOf(call)}-01`).sort(),
    );
  });

  it('keeps the reads of concurrent requests each under its own request, with no context carried across awaits', async () => {
    const callers = [callerContext(), callerContext(), callerContext()];
    const answers = await Promise.all(
      callers.map((caller) =>
        postGraphQL(app.url, DASHBOARD_QUERY, { traceparent: caller.traceparent }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const byId = new Map(spans.map((span) => [idOf(span), span]));
    for (const caller of callers) {
      const trace = spans.filter((span) => traceOf(span) === caller.traceId);
      const [operation, ...others] = trace.filter((span) => span.kind === SpanKind.SERVER);
      expect(others).toEqual([]);
      const reads = readSpans(trace);
      // Each request reads each of its eight providers itself (coalescing is off): its own spans.
      expect(reads).toHaveLength(8);
      for (const read of reads) expect(parentOf(read)).toBe(idOf(operation as ReadableSpan));
      for (const call of clientSpans(trace)) {
        expect(byId.get(parentOf(call) as string)?.name, call.name).toBe('provider read');
      }
    }
    // Every span belongs to one of the three traces: none was left without its parent.
    expect(new Set(spans.map(traceOf))).toEqual(new Set(callers.map((caller) => caller.traceId)));
  });

  it('marks a failed read and its calls with the contract code, retries counted', async () => {
    app.sandbox.setFault('pik', { type: 'status', status: 503 });
    try {
      await postGraphQL(app.url, '{ provider(id: "pik-main") { accounts { id } } }');
    } finally {
      app.sandbox.clearFaults();
    }
    const spans = exporter.getFinishedSpans();
    const [read] = readSpans(spans).filter((span) => span.attributes.provider === 'pik-main');
    expect(read?.attributes.outcome).toBe('UPSTREAM_UNAVAILABLE');
    expect(read?.status).toMatchObject({ code: 2 });
    const calls = clientSpans(spans).filter(
      (span) => parentOf(span) === idOf(read as ReadableSpan),
    );
    expect(calls.map((call) => call.attributes['http.request.resend_count'] ?? 0)).toEqual([
      0, 1, 2,
    ]);
    for (const call of calls) {
      expect(call.attributes).toMatchObject({
        'http.response.status_code': 503,
        outcome: 'UPSTREAM_UNAVAILABLE',
        'error.type': 'UPSTREAM_UNAVAILABLE',
      });
    }
  });

  it('keeps every secret, token and body out of the spans', async () => {
    // Logins, token rejections and a failing read, with canary credentials everywhere.
    for (const kind of ['pik', 'asset-accounts', 'merchant', 'rest'] as const) {
      app.sandbox.setFault(kind, { type: 'auth-once' });
      await postGraphQL(app.url, DASHBOARD_QUERY);
      app.sandbox.clearFaults();
    }
    await postGraphQL(app.url, DASHBOARD_QUERY);
    const spans = exporter.getFinishedSpans();
    expect(clientSpans(spans).length).toBeGreaterThan(20);
    const tokens = new Set<string>();
    for (const call of app.sandbox.calls()) {
      for (const header of ['authorization', 'x-api-key', 'otp']) {
        const value = call.headers[header];
        if (typeof value === 'string') tokens.add(value.replace(/^(Bearer|Basic) /, ''));
      }
    }
    expect(tokens.size).toBeGreaterThan(5);
    for (const span of spans) {
      const text = spanText(span);
      for (const secret of [CANARY, 'CANARYQQ', 'api_key', ...tokens]) {
        if (text.includes(secret)) throw new Error(`a secret is in a span: ${text.slice(0, 400)}`);
      }
      // No body: none of the sandbox's amounts or account ids.
      expect(text).not.toMatch(/9007199254740993|lg_acc_|sandbox-1/);
    }
  });
});

describe('reads answered without an upstream call', () => {
  it('have spans of their own: from the freshness window, and joined while under way', async () => {
    const app = await startLiveApp({
      latencyMs: 50,
      configDocument: (baseUrl) => ({
        providers: demoConfigDocument(baseUrl).providers.map((provider) => ({
          ...provider,
          cacheTtlMs: 60_000,
        })),
      }),
    });
    try {
      const query = '{ provider(id: "sms") { accounts { id } } }';
      await Promise.all([postGraphQL(app.url, query), postGraphQL(app.url, query)]);
      await postGraphQL(app.url, query);
      const reads = readSpans(exporter.getFinishedSpans());
      expect(reads.map((read) => read.attributes.source).sort()).toEqual([
        'cache',
        'coalesced',
        'upstream',
      ]);
      const operations = exporter
        .getFinishedSpans()
        .filter((span) => span.kind === SpanKind.SERVER);
      expect(operations).toHaveLength(3);
      // Each read is a span of the request that asked for it.
      for (const read of reads) {
        expect(operations.map(idOf)).toContain(parentOf(read));
        expect(read.attributes.outcome).toBe('ok');
      }
    } finally {
      await app.close();
    }
  });
});

describe('subscriptions', () => {
  it('poll in traces of their own, not the subscribing request', async () => {
    const app = await startLiveApp();
    try {
      const caller = callerContext();
      const subscription = await subscribeSse(
        app.url,
        'subscription { balanceEvents(providerIds: ["sms"]) { kind } }',
        undefined,
        { traceparent: caller.traceparent },
      );
      await subscription.next();
      // The next poll: it finds nothing new, so only its spans tell of it.
      app.timers.advance(30_000);
      await expect
        .poll(() => readSpans(exporter.getFinishedSpans()).length, { interval: 5 })
        .toBeGreaterThanOrEqual(2);
      subscription.close();
      await subscription.ended;
      const spans = exporter.getFinishedSpans();
      const polls = readSpans(spans);
      const traces = new Set(polls.map(traceOf));
      expect(traces.size).toBe(polls.length);
      for (const poll of polls) {
        expect(traceOf(poll)).not.toBe(caller.traceId);
        expect(parentOf(poll)).toBeUndefined();
        const calls = clientSpans(spans).filter((span) => parentOf(span) === idOf(poll));
        expect(calls.length).toBeGreaterThan(0);
        for (const call of calls) expect(traceOf(call)).toBe(traceOf(poll));
      }
    } finally {
      await app.close();
    }
  });
});
