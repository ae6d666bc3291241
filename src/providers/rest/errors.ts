import { isLosslessNumber } from 'lossless-json';
import {
  ContractViolation,
  UpstreamError,
  type UpstreamErrorCode,
  UpstreamTokenRejectedError,
} from '../../upstream/errors.js';
import type { UpstreamResponse } from '../../upstream/http.js';
import { MAX_RETRY_AFTER_SECONDS, readRetryAfterSeconds } from '../../upstream/http-errors.js';
import { parseLosslessJson } from '../../upstream/json.js';
import { answerRefused } from '../../upstream/observer.js';
import type { RestConfig, RestErrorRow } from './config.js';
import { type JsonPointer, parsePointer, readPointer } from './pointer.js';

/**
 * The `rest` kind's error table: the configured rows first (HTTP status, envelope code, call),
 * then, for an answer no row names, the mapping every built-in kind has (401 and 403 auth, 404
 * not found, 429 rate limited with Retry-After, 5xx unavailable, anything else a bad response).
 * An envelope can say "error" under HTTP 200. Messages are our own words: they name the status,
 * and an envelope code only where the configuration itself lists it, never other body text.
 */

/** An error whose row drops the session that made the call; the adapter forgets its token. */
export class RestSessionDropped extends UpstreamError {}

/** Which call an answer belongs to, as rows and messages name it. */
export interface RestCall {
  call: 'balances' | 'login';
  /** How messages name the call: "the balance list", "the login". */
  what: string;
  /**
   * An OAuth2 token request: its answer is RFC 6749's (§5.1, §5.2), never in the API's envelope,
   * and a 400 (invalid_client, invalid_grant, invalid_scope...) rejects the client.
   */
  oauth?: boolean;
}

/** What an answer is, once settled: data, or nothing at all (an `empty` row). */
export type RestOutcome = { kind: 'answer'; body: unknown } | { kind: 'empty' };

type Scalar = string | number | boolean;

interface CompiledRow {
  row: RestErrorRow;
  statuses: readonly number[] | undefined;
  codes: readonly Scalar[] | undefined;
  retryAfterAt: JsonPointer | undefined;
}

export type RestAnswerReader = (response: UpstreamResponse, call: RestCall) => RestOutcome;

/** The reader of a provider's answers, its rows compiled once. */
export function createRestAnswerReader(config: RestConfig): RestAnswerReader {
  const providerId = config.id;
  const session = config.auth.type === 'login' || config.auth.type === 'oauth2ClientCredentials';
  const envelope = config.envelope;
  const statusAt = envelope?.statusAt === undefined ? undefined : compile(envelope.statusAt);
  const codeAt =
    envelope?.codeAt !== undefined
      ? compile(envelope.codeAt)
      : statusAt === undefined
        ? undefined
        : statusAt;
  const success = envelope?.success ?? [];
  const rows: CompiledRow[] = config.errors.map((row) => ({
    row,
    statuses: row.status === undefined ? undefined : [row.status].flat(),
    codes: row.code === undefined ? undefined : [row.code].flat(),
    retryAfterAt: row.retryAfterAt === undefined ? undefined : compile(row.retryAfterAt),
  }));
  // Codes the configuration names may be quoted in messages; other body text never is.
  const namedCodes = [...success, ...rows.flatMap((row) => row.codes ?? [])];

  const settle: RestAnswerReader = (response, { call, what, oauth = false }) => {
    const { status } = response;
    let body: unknown;
    let parseError: ContractViolation | undefined;
    if (status === 200 || codeAt !== undefined || rows.some((row) => row.retryAfterAt)) {
      try {
        body = parseLosslessJson(response.text);
      } catch (error) {
        if (!(error instanceof ContractViolation)) throw error;
        parseError = error;
      }
    }
    const code = codeAt === undefined ? undefined : scalarAt(body, codeAt);
    const label = `HTTP ${status}${code === undefined ? '' : ` with code ${describe(code)}`}`;
    const options = { providerId, status };
    const answer = (): RestOutcome => {
      if (parseError !== undefined) throw broken(parseError);
      return { kind: 'answer', body };
    };
    const broken = (violation: ContractViolation) =>
      new UpstreamError(
        'UPSTREAM_BAD_RESPONSE',
        `${providerId}: ${what} broke the provider's contract: ${violation.message}`,
        options,
      );

    const matched = rows.find(
      ({ row, statuses, codes }) =>
        (row.call === undefined || row.call === call) &&
        (statuses === undefined || statuses.includes(status)) &&
        (codes === undefined || (code !== undefined && codes.some((value) => same(value, code)))),
    );
    if (matched !== undefined) {
      const { row } = matched;
      switch (row.means) {
        case 'success':
          return answer();
        case 'empty':
          return { kind: 'empty' };
        case 'relogin':
          if (call === 'login' || !session) throw loginRejected(label);
          throw new UpstreamTokenRejectedError(
            `${providerId}: the provider rejected the session token (${label})`,
            options,
          );
        default: {
          const retryAfterSeconds =
            row.means === 'UPSTREAM_RATE_LIMITED'
              ? (secondsAt(body, matched.retryAfterAt) ?? readRetryAfterSeconds(response.headers))
              : undefined;
          const message = `${providerId}: ${row.message ?? DEFAULT_MESSAGES[row.means](what)} (${label})${
            retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`
          }`;
          const fields = {
            ...options,
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
          };
          throw row.dropsSession
            ? new RestSessionDropped(row.means, message, fields)
            : new UpstreamError(row.means, message, fields);
        }
      }
    }

    if (status === 200) {
      if (statusAt === undefined || oauth) return answer();
      const said = scalarAt(body, statusAt);
      if (said !== undefined && success.some((value) => same(value, said))) return answer();
      if (parseError !== undefined) throw broken(parseError);
      // An envelope code that reads as an HTTP error status means what that status means.
      const asStatus = code ?? said;
      if (typeof asStatus === 'number' && asStatus >= 400 && asStatus <= 599) {
        return byStatus(asStatus, `code ${asStatus} under HTTP 200`);
      }
      throw new UpstreamError(
        'UPSTREAM_BAD_RESPONSE',
        `${providerId}: ${what} answered ${
          said === undefined
            ? `HTTP 200 without the envelope's status (${statusAt.text})`
            : `HTTP 200 with status ${describe(said)}${code === undefined || code === said ? '' : ` and code ${describe(code)}`}`
        }, which no row of errors names`,
        options,
      );
    }
    return byStatus(status, label);

    /** What an HTTP status means when no row says: as for the built-in kinds. */
    function byStatus(value: number, text: string): never {
      const at = { providerId, status };
      if (value === 401) {
        if (call === 'login') throw loginRejected(text);
        if (session) {
          throw new UpstreamTokenRejectedError(
            `${providerId}: the provider rejected the session token (${text})`,
            at,
          );
        }
        throw new UpstreamError(
          'UPSTREAM_AUTH_FAILED',
          `${providerId}: the provider rejected the credentials (${text})`,
          at,
        );
      }
      if (value === 403 || (value === 400 && oauth)) {
        if (call === 'login') throw loginRejected(text);
        throw new UpstreamError(
          'UPSTREAM_AUTH_FAILED',
          `${providerId}: the provider refused access (${text})`,
          at,
        );
      }
      if (value === 404) {
        throw new UpstreamError(
          'UPSTREAM_NOT_FOUND',
          `${providerId}: ${what} was not found (${text})`,
          at,
        );
      }
      if (value === 429) {
        const retryAfterSeconds = readRetryAfterSeconds(response.headers);
        throw new UpstreamError(
          'UPSTREAM_RATE_LIMITED',
          `${providerId}: ${what} was rate limited (${text})${
            retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`
          }`,
          { ...at, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
        );
      }
      const failure: UpstreamErrorCode =
        value >= 500 && value <= 599 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_RESPONSE';
      throw new UpstreamError(
        failure,
        failure === 'UPSTREAM_UNAVAILABLE'
          ? `${providerId}: ${what} failed upstream (${text})`
          : `${providerId}: ${what} answered ${text}, which the configuration does not define`,
        at,
      );
    }

    function loginRejected(text: string): UpstreamError {
      return new UpstreamError(
        'UPSTREAM_AUTH_FAILED',
        `${providerId}: the provider rejected the login (${text}); check the credentials`,
        options,
      );
    }
  };
  return (response, call) => {
    try {
      return settle(response, call);
    } catch (error) {
      // The call is counted under the code its answer maps to, an error under HTTP 200 included.
      answerRefused(response, error);
      throw error;
    }
  };

  /** A code as messages may show it: a number, a boolean, or a string the configuration names. */
  function describe(value: Scalar): string {
    if (typeof value !== 'string') return String(value);
    // Unquoted: a message carries no quotes that could pass for quoted body text.
    return namedCodes.includes(value) ? value : 'a string no row names';
  }
}

/** What a row without a message says, by its contract code, in the built-in kinds' words. */
const DEFAULT_MESSAGES: Record<UpstreamErrorCode, (what: string) => string> = {
  UPSTREAM_AUTH_FAILED: () => 'the provider refused access',
  UPSTREAM_NOT_FOUND: (what) => `${what} was not found`,
  UPSTREAM_UNAVAILABLE: (what) => `${what} failed upstream`,
  UPSTREAM_RATE_LIMITED: (what) => `${what} was rate limited`,
  UPSTREAM_BAD_RESPONSE: (what) => `${what} failed`,
  UPSTREAM_TIMEOUT: (what) => `${what} timed out upstream`,
};

function compile(text: string): JsonPointer {
  const pointer = parsePointer(text);
  if (pointer === undefined) throw new Error(`not a JSON Pointer: ${JSON.stringify(text)}`);
  return pointer;
}

/** The scalar at a pointer: a string, a boolean, or a number (codes are small, never money). */
function scalarAt(body: unknown, at: JsonPointer): Scalar | undefined {
  const value = readPointer(body, at);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (isLosslessNumber(value)) {
    const number = Number(value.value);
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

/** JSON equality of scalars: 200 and 200.0 are one number; "200" is not 200. */
function same(configured: Scalar, received: Scalar): boolean {
  return configured === received;
}

/** Whole seconds at a pointer (a number or a string of digits), at most one day. */
function secondsAt(body: unknown, at: JsonPointer | undefined): number | undefined {
  if (at === undefined) return undefined;
  const value = readPointer(body, at);
  const text = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : '';
  if (!/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  return Math.min(MAX_RETRY_AFTER_SECONDS, Math.ceil(Number(text)));
}
