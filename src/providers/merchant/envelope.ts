import { ContractViolation, UpstreamError } from '../../upstream/errors.js';
import type { UpstreamResponse } from '../../upstream/http.js';
import { readRetryAfterSeconds } from '../../upstream/http-errors.js';
import { isRecord, parseLosslessJson, readCode } from '../../upstream/json.js';

/**
 * What an answer means. The envelope's `ResponseCode` is authoritative, since some deployments
 * answer HTTP 200 with an error code; without a readable envelope the HTTP status decides.
 *   HTTP 200 {"ResponseCode":401,"ResponseMessage":"Unauthorized","ResponseData":null}
 */
export interface MerchantOutcome {
  /** The effective code: ResponseCode, else the HTTP status. */
  code: number;
  /** The body parsed losslessly; undefined when it is not JSON. */
  body: unknown;
  /** Why the body is not JSON, for a success that cannot be read. */
  parseError: ContractViolation | undefined;
  /** Names the code for messages, e.g. "ResponseCode 503 under HTTP 200"; never the body. */
  label: string;
}

export function readMerchantOutcome(response: UpstreamResponse): MerchantOutcome {
  const { status } = response;
  let body: unknown;
  let parseError: ContractViolation | undefined;
  try {
    body = parseLosslessJson(response.text);
  } catch (error) {
    if (!(error instanceof ContractViolation)) throw error;
    parseError = error;
  }
  const responseCode = isRecord(body) ? readCode(body.ResponseCode) : undefined;
  // A success code in the body never turns an HTTP error into a success.
  if (responseCode === undefined || (responseCode === 200 && status !== 200)) {
    return { code: status, body, parseError, label: `HTTP ${status}` };
  }
  const label =
    responseCode === status
      ? `HTTP ${status}`
      : `ResponseCode ${responseCode} under HTTP ${status}`;
  return { code: responseCode, body, parseError, label };
}

/**
 * The codes both endpoints share, once each has claimed its own: 404/410 not found, 429 rate
 * limited, 5xx unavailable, anything else a bad response.
 */
export function merchantErrorFor(
  providerId: string,
  endpoint: string,
  outcome: MerchantOutcome,
  response: UpstreamResponse,
): UpstreamError {
  const { code, label } = outcome;
  const options = { providerId, status: response.status };
  if (code === 404 || code === 410) {
    return new UpstreamError(
      'UPSTREAM_NOT_FOUND',
      `${providerId}: ${endpoint} found no merchant account (${label})`,
      options,
    );
  }
  if (code === 429) {
    const retryAfterSeconds = readRetryAfterSeconds(response.headers);
    return new UpstreamError(
      'UPSTREAM_RATE_LIMITED',
      `${providerId}: ${endpoint} was rate limited (${label})${
        retryAfterSeconds === undefined ? '' : `; retry after ${retryAfterSeconds} s`
      }`,
      { ...options, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
    );
  }
  if (code >= 500 && code <= 599) {
    return new UpstreamError(
      'UPSTREAM_UNAVAILABLE',
      `${providerId}: ${endpoint} failed upstream (${label})`,
      options,
    );
  }
  return new UpstreamError(
    'UPSTREAM_BAD_RESPONSE',
    `${providerId}: ${endpoint} answered ${label}, which the provider's contract does not define`,
    options,
  );
}
