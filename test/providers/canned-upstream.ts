import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import type { ProviderConfigOf } from '../../src/config/providers.js';
import type { ProviderKind } from '../../src/providers/kinds.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import { createUpstreamHttp, type UpstreamHttp } from '../../src/upstream/http.js';

/** One answer of the canned upstream: what a provider might send, error bodies included. */
export interface CannedAnswer {
  status: number;
  /** Sent as it is: JSON text, or anything else. */
  body: string;
  headers?: Record<string, string>;
}

/**
 * A real HTTP server on a loopback port that answers every request with the answer a test set:
 * how each kind's error table is driven with statuses, envelope codes and bodies no simulator
 * produces on its own. It counts the requests, so a test sees a call was made once.
 */
export interface CannedUpstream {
  baseUrl: string;
  /** The transport a client sends through: no retries, so each case is one request. */
  http: UpstreamHttp;
  answer(answer: CannedAnswer): void;
  requests(): number;
  close(): Promise<void>;
}

export async function startCannedUpstream(providerId: string): Promise<CannedUpstream> {
  let current: CannedAnswer = { status: 500, body: '{}' };
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests += 1;
    // The body is drained before the answer, so the client never sees a reset.
    request.resume();
    request.on('end', () => {
      response.writeHead(current.status, {
        'content-type': 'application/json',
        ...current.headers,
      });
      response.end(current.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const dispatcher = new Agent();
  return {
    baseUrl,
    http: createUpstreamHttp({
      providerId,
      baseUrl,
      dispatcher,
      timeoutMs: 5000,
      retry: { maxRetries: 0 },
    }),
    answer(answer) {
      current = answer;
    },
    requests: () => requests,
    async close() {
      await dispatcher.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A provider's configuration as the configuration file would give it. */
export function providerConfig<K extends ProviderKind>(
  kind: K,
  fields: Record<string, unknown>,
): ProviderConfigOf<K> {
  const provider = parseConfig(
    { providers: [{ kind, ...fields }] },
    { source: 'test', env: {}, baseDir: process.cwd() },
  ).tenants[0]?.providers[0];
  if (provider?.kind !== kind) throw new Error(`expected a ${kind} provider`);
  return provider as ProviderConfigOf<K>;
}

/** What a case expects of an answer: the contract code, retryable and the exact message. */
export interface ExpectedFailure {
  code: string;
  retryable: boolean;
  message: string;
  /** The status the error reports, where it has one. */
  status?: number;
  /** True when the session layer is to log in once more (UpstreamTokenRejectedError). */
  tokenRejected?: boolean;
  retryAfterSeconds?: number;
}

/** The failure a client call ended in, as the cases state it. */
export async function mappedFailure(call: Promise<unknown>): Promise<ExpectedFailure | 'resolved'> {
  try {
    await call;
    return 'resolved';
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    return {
      code: error.code,
      retryable: error.retryable,
      message: error.message,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.name === 'UpstreamTokenRejectedError' ? { tokenRejected: true } : {}),
      ...(error.retryAfterSeconds === undefined
        ? {}
        : { retryAfterSeconds: error.retryAfterSeconds }),
    };
  }
}
