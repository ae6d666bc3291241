import {
  ContractViolation,
  UpstreamError,
  type UpstreamErrorCode,
  UpstreamTokenRejectedError,
} from '../upstream/errors.js';
import type { UpstreamResponse } from '../upstream/http.js';
import { errorForStatus } from '../upstream/http-errors.js';
import { expectRecord, isRecord, parseLosslessJson, readCode } from '../upstream/json.js';
import { answerRefused } from '../upstream/observer.js';

/**
 * Each kind maps its upstream answers through tables of rows (STYLE.md habit 8): a row matches a
 * code and says what the answer means. An answer no row claims gets the shared status mapping
 * (`errorForStatus`: 429 rate limited with its Retry-After, 5xx unavailable, anything else a bad
 * response). Messages are our own words: they name the code, never text from the body.
 */

/** A code a kind's bodies carry beside the HTTP status, and when it decides over the status. */
export interface BodyCode {
  /** The field that holds it: pik's `code`, merchant's `ResponseCode`, prepaid's `code`. */
  field: string;
  /**
   * "under-http-200": in an HTTP 200 answer it stands for the status, in errors and messages too
   * (pik). "always": it decides in any answer, save that a success code never hides an HTTP error;
   * messages name both ("ResponseCode 503 under HTTP 200") and errors report the HTTP status
   * (merchant). "never": rows may match it, the HTTP status decides (prepaid).
   */
  decides: 'under-http-200' | 'always' | 'never';
}

/** An envelope: a body code, and the field that holds a successful answer's payload. */
export interface Envelope extends BodyCode {
  dataField: string;
}

/** An upstream answer as the tables read it. */
export interface UpstreamAnswer {
  response: UpstreamResponse;
  /** The code the rows match: the body's code where it decides, else the HTTP status. */
  code: number;
  /** The body's own code, where it has one that reads as a number. */
  bodyCode: number | undefined;
  /** The status errors report. */
  status: number;
  /** How messages name the code: "HTTP 503", or "ResponseCode 503 under HTTP 200". */
  label: string;
  /** The body parsed losslessly; undefined where it was not read or is not JSON. */
  body: unknown;
  /** Why a body that was read is not JSON. */
  parseError: ContractViolation | undefined;
}

/**
 * Reads an answer once: its body (always where the kind has a body code, else only an HTTP 200's)
 * and the code that decides.
 */
export function readAnswer(response: UpstreamResponse, bodyCode?: BodyCode): UpstreamAnswer {
  const { status } = response;
  let body: unknown;
  let parseError: ContractViolation | undefined;
  if (bodyCode !== undefined || status === 200) {
    try {
      body = parseLosslessJson(response.text);
    } catch (error) {
      if (!(error instanceof ContractViolation)) throw error;
      parseError = error;
    }
  }
  const own = bodyCode !== undefined && isRecord(body) ? readCode(body[bodyCode.field]) : undefined;
  let code = status;
  let reported = status;
  let label: string | undefined;
  if (own !== undefined && bodyCode?.decides === 'under-http-200' && status === 200) {
    code = own;
    reported = own;
  } else if (
    own !== undefined &&
    bodyCode?.decides === 'always' &&
    (own !== 200 || status === 200)
  ) {
    code = own;
    if (own !== status) label = `${bodyCode.field} ${own} under HTTP ${status}`;
  }
  // One literal, not a spread with fields added: on Node 20 that shape costs microseconds, and
  // every upstream answer is read here.
  return {
    response,
    code,
    bodyCode: own,
    status: reported,
    label: label ?? `HTTP ${code}`,
    body,
    parseError,
  };
}

/** What a row makes of an answer. */
export type Verdict =
  /** The answer is the data asked for. */
  | { kind: 'answer' }
  /** There is nothing: the read has no account (pik's balance by currency, 404). */
  | { kind: 'absent' }
  /** The session's token was rejected: the session layer logs in once more, never twice. */
  | { kind: 'token-rejected'; token: string }
  /** The credentials were rejected: final, never retried. */
  | { kind: 'login-rejected'; credentials: string }
  /** A contract code with its message; `dropsSession` ends the session that made the call. */
  | { kind: 'error'; code: UpstreamErrorCode; message: string; dropsSession: boolean };

export const ANSWER: Verdict = { kind: 'answer' };
export const ABSENT: Verdict = { kind: 'absent' };

/** `<provider>: the provider rejected <token>` (UPSTREAM_AUTH_FAILED), with one re-login. */
export function tokenRejected(token: string): Verdict {
  return { kind: 'token-rejected', token };
}

/** `<provider>: the provider rejected the login (invalid <credentials>)` (UPSTREAM_AUTH_FAILED). */
export function loginRejected(credentials: string): Verdict {
  return { kind: 'login-rejected', credentials };
}

/** `<provider>: <message>` with a contract code. */
export function fail(
  code: UpstreamErrorCode,
  message: string,
  options: { dropsSession?: boolean } = {},
): Verdict {
  return { kind: 'error', code, message, dropsSession: options.dropsSession ?? false };
}

/** What a row's message may name: the call, and the code as `UpstreamAnswer.label` names it. */
export interface AnswerContext {
  providerId: string;
  /** The call, as messages name it: "the balance list", "Get Session Token". */
  what: string;
}

/** One row: every matcher it has must match. */
export interface ErrorRow<C = object> {
  /** The code that decides (`UpstreamAnswer.code`): one, or any of several. */
  code?: number | readonly number[];
  /** The HTTP status itself, whatever the body's code says. */
  httpStatus?: number;
  /** The body's own code (prepaid's 2002 beside a 401 or a 403). */
  bodyCode?: number;
  means: Verdict | ((context: AnswerContext & C & { label: string }) => Verdict);
}

/** A kind's rows for one call, the first match winning; unmatched answers get the shared mapping. */
export type ErrorTable<C = object> = readonly ErrorRow<C>[];

/**
 * Maps an answer through a table: "answer" or "absent", or throws the error its row (or the shared
 * status mapping) gives. `onDropSession` runs before a row that ends the session throws.
 */
export function settleAnswer<C extends object>(
  table: ErrorTable<C>,
  answer: UpstreamAnswer,
  context: AnswerContext & C,
  onDropSession?: () => void,
): 'answer' | 'absent' {
  try {
    return settleByTable(table, answer, context, onDropSession);
  } catch (error) {
    // The call is counted under the code its answer maps to, an error under HTTP 200 included.
    answerRefused(answer.response, error);
    throw error;
  }
}

function settleByTable<C extends object>(
  table: ErrorTable<C>,
  answer: UpstreamAnswer,
  context: AnswerContext & C,
  onDropSession?: () => void,
): 'answer' | 'absent' {
  const row = table.find((candidate) => matches(candidate, answer));
  if (row === undefined) throw sharedStatusError(answer, context);
  const verdict =
    typeof row.means === 'function' ? row.means({ ...context, label: answer.label }) : row.means;
  const { providerId } = context;
  const options = { providerId, status: answer.status };
  switch (verdict.kind) {
    case 'answer':
    case 'absent':
      return verdict.kind;
    case 'token-rejected':
      throw new UpstreamTokenRejectedError(
        `${providerId}: the provider rejected ${verdict.token}`,
        options,
      );
    case 'login-rejected':
      throw new UpstreamError(
        'UPSTREAM_AUTH_FAILED',
        `${providerId}: the provider rejected the login (invalid ${verdict.credentials})`,
        options,
      );
    case 'error':
      if (verdict.dropsSession) onDropSession?.();
      throw new UpstreamError(verdict.code, `${providerId}: ${verdict.message}`, options);
  }
}

function matches(row: ErrorRow<never>, answer: UpstreamAnswer): boolean {
  if (row.httpStatus !== undefined && row.httpStatus !== answer.response.status) return false;
  if (row.bodyCode !== undefined && row.bodyCode !== answer.bodyCode) return false;
  if (typeof row.code === 'number') return row.code === answer.code;
  return row.code === undefined || row.code.includes(answer.code);
}

/**
 * The shared status mapping, for the code that decides and reporting the status the answer
 * reports. A code named as an HTTP status is one (pik's code under HTTP 200 stands for the
 * status); a body code named beside the HTTP status (merchant's "ResponseCode 503 under HTTP
 * 200") is given to errorForStatus as the code that decides.
 */
function sharedStatusError(answer: UpstreamAnswer, context: AnswerContext): UpstreamError {
  const { providerId, what } = context;
  const { code, label, status } = answer;
  return label === `HTTP ${code}`
    ? errorForStatus(providerId, { ...answer.response, status: code }, what)
    : errorForStatus(providerId, { ...answer.response, status }, what, { code, label });
}

/** The body of an answer its table settled as "answer"; a body that is not JSON breaks the contract. */
export function answerBody(answer: UpstreamAnswer): unknown {
  if (answer.parseError !== undefined) throw answer.parseError;
  return answer.body;
}

/**
 * The payload of a successful envelope, the one place its code is checked: an object whose code
 * is the number 200 (not "200", not missing).
 *   {"code":200,"message":"success","data":...}
 */
export function envelopeData(body: unknown, envelope: Envelope, where: string): unknown {
  const record = expectRecord(body, where);
  if (readCode(record[envelope.field]) !== 200) {
    throw new ContractViolation(`${where}.${envelope.field}: expected 200 in a successful answer`);
  }
  return record[envelope.dataField];
}
