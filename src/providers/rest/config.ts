import { z } from 'zod';
import { BALANCE_COMPONENT_KINDS, type BalanceComponentKind } from '../adapter.js';
import {
  commonProviderFields,
  type ResolvedProviderConfig,
  secretReference,
  upstreamPath,
} from '../provider-config.js';
import { isPointer } from './pointer.js';
import { parseTemplate, type TemplateScope } from './template.js';

/**
 * A `rest` provider in the configuration file: its login, request, pagination, errors and field
 * mapping are data (README "The rest kind"). The schema checks each part's shape; one check over
 * the whole provider then finds what no single field shows (a placeholder naming no credential,
 * a reference to a component that is not mapped, a cycle of derived amounts), each as one problem
 * naming its field.
 */

/** The component kinds a mapping may name (CONTRACT.md's BalanceComponentKind). */
const REST_COMPONENT_KINDS = BALANCE_COMPONENT_KINDS;

/** What an error row may say an answer means. */
const REST_ERROR_MEANINGS = [
  'success',
  'empty',
  'relogin',
  'UPSTREAM_AUTH_FAILED',
  'UPSTREAM_NOT_FOUND',
  'UPSTREAM_UNAVAILABLE',
  'UPSTREAM_RATE_LIMITED',
  'UPSTREAM_BAD_RESPONSE',
  'UPSTREAM_TIMEOUT',
] as const;

const POINTER_RULE = 'a JSON Pointer (RFC 6901): "" or "/" and keys, such as "/data/0/balance"';

/** A JSON Pointer into an answer. */
const pointer = z
  .string()
  .max(512)
  .refine(isPointer, { error: `expected ${POINTER_RULE}` });

/** A header name (RFC 9110 token). */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, { error: 'expected a header name' });
/** A query or form parameter name. */
const parameterName = z
  .string()
  .regex(/^[A-Za-z0-9_.[\]-]{1,128}$/, { error: 'expected a parameter name' });
/** A string that may hold placeholders; checked against the provider's credentials later. */
const template = z.string().max(4096);
/** A JSON scalar an envelope may hold: a code or a status. */
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, a number or a boolean',
});

/**
 * A string field of the normalized model: read at a pointer, a constant, or the key of the member
 * a balance record is (balances keyed by currency).
 */
const stringSource = z.union(
  [
    pointer,
    z.strictObject({ const: z.string().min(1).max(256) }),
    z.strictObject({ key: z.literal(true) }),
  ],
  { error: `expected ${POINTER_RULE}, { "const": "..." } or { "key": true }` },
);
export type RestStringSource = z.infer<typeof stringSource>;

/** The names an amount may refer to: another field of the same balance. */
const REST_AMOUNT_REFERENCES = ['total', 'available', ...REST_COMPONENT_KINDS] as const;

/** How an amount is read or derived; see README "The rest kind", mapping. */
export type RestAmountSource =
  | string
  | {
      at: string;
      minorUnits?: number | { exponentAt: string } | undefined;
      optional?: boolean | undefined;
    }
  | { sum: RestAmountSource[]; optional?: boolean | undefined }
  | { minus: RestAmountSource[]; optional?: boolean | undefined }
  | { firstOf: RestAmountSource[]; optional?: boolean | undefined };

const AMOUNT_RULE = `${POINTER_RULE}, a field (${REST_AMOUNT_REFERENCES.join(', ')}), { "at" }, { "sum" }, { "minus" } or { "firstOf" }`;

const amountSource: z.ZodType<RestAmountSource> = z.lazy(() =>
  z.union(
    [
      z
        .string()
        .refine(
          (text) => isPointer(text) || (REST_AMOUNT_REFERENCES as readonly string[]).includes(text),
          { error: `expected ${POINTER_RULE}, or a field (${REST_AMOUNT_REFERENCES.join(', ')})` },
        ),
      z.strictObject({
        at: pointer,
        /** Minor units: the integer divided by 10^minorUnits, or by 10^(the record's exponent). */
        minorUnits: z
          .union([z.number().int().min(0).max(40), z.strictObject({ exponentAt: pointer })], {
            error: 'expected a whole number from 0 to 40, or { "exponentAt": "/pointer" }',
          })
          .optional(),
        optional: z.boolean().optional(),
      }),
      z.strictObject({
        sum: z.array(amountSource).min(1).max(20),
        optional: z.boolean().optional(),
      }),
      z.strictObject({
        minus: z.array(amountSource).min(2).max(20),
        optional: z.boolean().optional(),
      }),
      z.strictObject({
        firstOf: z.array(amountSource).min(1).max(20),
        optional: z.boolean().optional(),
      }),
    ],
    { error: `expected ${AMOUNT_RULE}` },
  ),
);

const timeFormat = z.enum(['iso', 'unixSeconds', 'unixMillis']);

const mappingSchema = z.strictObject({
  /** Where the account records are: an array (or `account`). */
  accounts: pointer.optional().describe('Where the account records are: a pointer to an array.'),
  /** Where the one account record is, for an answer that is one account. */
  account: pointer.optional().describe('Where the one account record is (instead of accounts).'),
  accountId: stringSource.describe(
    'The account id: a pointer in the account record, or a constant.',
  ),
  accountName: stringSource.optional(),
  accountType: stringSource.optional(),
  accountStatus: stringSource.optional(),
  /** A boolean in the account record; default false. */
  suppressed: pointer.optional().describe('A boolean in the account record; default false.'),
  /**
   * The balance records in an account record: one pointer per level of nesting, or an object
   * whose members are the balances, keyed by currency (`{ "at": "/balances", "keys": "currency" }`).
   */
  balances: z
    .union(
      [
        pointer,
        z.array(pointer).min(1).max(5),
        z.strictObject({ at: pointer, keys: z.literal('currency') }),
      ],
      {
        error: `expected ${POINTER_RULE}, a list of them, or { "at": "/pointer", "keys": "currency" }`,
      },
    )
    .optional(),
  currency: stringSource.describe('The currency code (upper-cased): a pointer or a constant.'),
  network: stringSource.optional(),
  total: amountSource.describe('The total: read, derived or a first-present choice.'),
  available: amountSource.describe(
    'The available amount: read, derived or a first-present choice.',
  ),
  /** By kind, in the order the balance lists them (a record keeps the file's order). */
  components: z
    .partialRecord(z.enum(REST_COMPONENT_KINDS), amountSource)
    .default({})
    .describe('Component amounts by kind, listed in this order. Default none.'),
  updatedAt: z
    .union([pointer, z.strictObject({ at: pointer, format: timeFormat.default('iso') })], {
      error: `expected ${POINTER_RULE}, or { "at", "format" }`,
    })
    .optional(),
  depositAddresses: z
    .strictObject({
      at: pointer,
      /** "network": the value at `at` is an object keyed by network. */
      keys: z.literal('network').optional(),
      network: stringSource.optional(),
      address: pointer,
      memo: pointer.optional(),
    })
    .optional(),
});
export type RestMapping = z.infer<typeof mappingSchema>;

const lifetimeSchema = z.union(
  [
    z.strictObject({ secondsAt: pointer }),
    z.strictObject({ expiresAt: pointer, format: timeFormat.default('iso') }),
    z.strictObject({ jwtExp: z.literal(true) }),
    z.strictObject({ seconds: z.number().int().min(1).max(31_536_000) }),
  ],
  {
    error:
      'expected { "secondsAt": "/pointer" }, { "expiresAt": "/pointer" }, { "jwtExp": true } or { "seconds": N }',
  },
);
export type RestTokenLifetime = z.infer<typeof lifetimeSchema>;

const DEFAULT_SEND = { header: 'Authorization', value: 'Bearer {token}' };
const sendSchema = z
  .union(
    [
      z.strictObject({ header: headerName, value: template.default(DEFAULT_SEND.value) }),
      z.strictObject({ query: parameterName }),
    ],
    { error: 'expected { "header", "value" } or { "query" }' },
  )
  .default(DEFAULT_SEND);
export type RestTokenSend = z.infer<typeof sendSchema>;

const templateMap = (name: z.ZodType<string>) => z.record(name, template);

const AUTH_TYPES = ['none', 'basic', 'bearer', 'apiKey', 'oauth2ClientCredentials', 'login'];

const authSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('none') }),
    z
      .strictObject({ type: z.literal('basic'), username: template, password: template })
      .describe('Authorization: Basic of username and password (templates).'),
    z
      .strictObject({ type: z.literal('bearer'), token: template.min(1) })
      .describe('Authorization: Bearer of a static token (a template).'),
    z.strictObject({
      type: z.literal('apiKey'),
      /** Where the key goes; default header. */
      in: z.enum(['header', 'query']).default('header'),
      name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/, {
        error: 'expected a header or parameter name',
      }),
      value: template.min(1),
    }),
    z
      .strictObject({
        type: z.literal('oauth2ClientCredentials'),
        clientId: template.min(1),
        clientSecret: template.min(1),
        /**
         * The token endpoint when it is on another host than `baseUrl` (an authorization server of
         * its own); default `baseUrl` + `paths.login`.
         */
        tokenUrl: z
          .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
          .refine(
            (url) =>
              !URL.canParse(url) || (new URL(url).username === '' && new URL(url).password === ''),
            { error: 'must not carry a user name or password; give them under "credentials"' },
          )
          .optional(),
        /** RFC 6749 §2.3.1: HTTP Basic (default) or client_id/client_secret in the form body. */
        clientAuth: z.enum(['basic', 'body']).default('basic'),
        scope: z.string().min(1).max(1024).optional(),
        /** Used only when the answer has no expires_in; default { "seconds": 3600 }. */
        lifetime: lifetimeSchema.optional(),
        send: sendSchema,
      })
      .describe('RFC 6749 client credentials: a form POST to the token endpoint.'),
    z
      .strictObject({
        type: z.literal('login'),
        method: z.enum(['GET', 'POST']).default('POST'),
        headers: templateMap(headerName).default({}),
        query: templateMap(parameterName).default({}),
        body: z.json().optional(),
        bodyFormat: z.enum(['json', 'form']).default('json'),
        token: pointer,
        lifetime: lifetimeSchema,
        send: sendSchema,
        /** A response header that hands over a new token (merchant's x-refresh-token). */
        rotateHeader: headerName.optional(),
      })
      .describe('A login request template; the token read at a pointer of its answer.'),
  ],
  { error: `expected one of ${AUTH_TYPES.join(', ')}` },
);

const currencyCase = z.enum(['upper', 'lower']).default('upper');
const httpStatus = z.number().int().min(100).max(599);

const requestSchema = z.strictObject({
  /** Default GET. */
  method: z.enum(['GET', 'POST']).default('GET'),
  query: templateMap(parameterName).default({}),
  headers: templateMap(headerName).default({}),
  /** A JSON template, sent as application/json; POST only. */
  body: z.json().optional(),
  /** How the wanted currencies go into the request; without it every read asks for all. */
  currencies: z
    .discriminatedUnion(
      'in',
      [
        z.strictObject({ in: z.literal('body'), at: pointer, case: currencyCase }),
        z.strictObject({
          in: z.literal('query'),
          name: parameterName,
          style: z.enum(['comma', 'repeat']).default('comma'),
          case: currencyCase,
        }),
        z.strictObject({
          in: z.literal('path'),
          /** The path of a one-currency read, holding `{currency}`; other reads use the list. */
          path: upstreamPath.refine((path) => path.includes('{currency}'), {
            error: 'expected a path holding {currency}',
          }),
          /** Where the answer's account record(s) are; default the mapping's. */
          account: pointer.optional(),
          accounts: pointer.optional(),
          /** Statuses that mean "no balance in that currency" (pik's 404): no account. */
          absent: z.array(httpStatus).max(10).default([]),
          case: currencyCase,
        }),
      ],
      { error: 'expected one of body, query, path' },
    )
    .optional(),
});

/** Default 20: a read that would need more pages is UPSTREAM_BAD_RESPONSE. */
const maxPages = z.number().int().min(1).max(1000).default(20);
const pageSize = z.number().int().min(1).max(10_000);

const paginationSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('page'),
      /** Default "page". */
      param: parameterName.default('page'),
      /** The first page's number, 0 or 1; default 1. */
      first: z.number().int().min(0).max(1).default(1),
      sizeParam: parameterName.optional(),
      size: pageSize.optional(),
      totalPagesAt: pointer.optional(),
      hasMoreAt: pointer.optional(),
      maxPages,
    }),
    z.strictObject({
      type: z.literal('offset'),
      /** Default "offset". */
      param: parameterName.default('offset'),
      /** Default "limit". */
      limitParam: parameterName.default('limit'),
      limit: pageSize,
      totalAt: pointer.optional(),
      hasMoreAt: pointer.optional(),
      maxPages,
    }),
    z.strictObject({
      type: z.literal('cursor'),
      /** Default "cursor". */
      param: parameterName.default('cursor'),
      /** Where the next page's cursor is; none, null or "" after the last page. */
      nextAt: pointer,
      sizeParam: parameterName.optional(),
      size: pageSize.optional(),
      hasMoreAt: pointer.optional(),
      maxPages,
    }),
  ],
  { error: 'expected one of none, page, offset, cursor' },
);

const envelopeSchema = z.strictObject({
  /** Where the success status is; with `success`, an HTTP 200 answer holding another is an error. */
  statusAt: pointer.optional(),
  success: z.array(scalar).min(1).max(20).optional(),
  /** Where the error code rows match is; default statusAt. */
  codeAt: pointer.optional(),
});

const errorRowSchema = z.strictObject({
  /** The HTTP status(es) the row matches; default any. */
  status: z.union([httpStatus, z.array(httpStatus).min(1).max(50)]).optional(),
  /** The envelope code(s) at envelope.codeAt the row matches; default any. */
  code: z.union([scalar, z.array(scalar).min(1).max(50)]).optional(),
  /** Which call's answers; default both. */
  call: z.enum(['balances', 'login']).optional(),
  means: z
    .enum(REST_ERROR_MEANINGS)
    .describe(
      'A contract code, relogin (one new login and retry), empty (no accounts) or success.',
    ),
  /** Our own words for the error; never text from the answer. */
  message: z.string().min(1).max(200).optional(),
  /** Rate limited: where the seconds to wait are in the body. */
  retryAfterAt: pointer.optional(),
  /**
   * The session that made the call is of no further use (merchant's token bound to another
   * address): it is dropped, and the next read logs in again. Default false.
   */
  dropsSession: z.boolean().default(false),
});
export type RestErrorRow = z.infer<typeof errorRowSchema>;

/** A `rest` provider's default paths: those of the sandbox's rest simulator. */
export const REST_DEFAULT_BALANCES_PATH = '/v1/accounts';
export const REST_DEFAULT_LOGIN_PATH = '/oauth2/token';

/** A credential's name, as `{credentials.NAME}` names it. */
const CREDENTIAL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A `rest` provider in the configuration file. */
export const restConfigSchema = z
  .strictObject({
    ...commonProviderFields,
    kind: z.literal('rest'),
    /** Named secrets; every one is redacted wherever it could show. Default {}. */
    credentials: z.record(z.string(), secretReference).default({}),
    paths: z
      .strictObject({ balances: upstreamPath.optional(), login: upstreamPath.optional() })
      .default({}),
    /** Default { "type": "none" }. */
    auth: authSchema
      .default({ type: 'none' })
      .describe('How calls are authenticated, by type; default none.'),
    /** Default a GET of paths.balances. */
    request: requestSchema
      .default({ method: 'GET', query: {}, headers: {} })
      .describe('The balance request: method, query, headers, JSON body, currencies.'),
    /** Default { "type": "none" }. */
    pagination: paginationSchema
      .default({ type: 'none' })
      .describe('none, page, offset or cursor, each with maxPages (default 20).'),
    /** Default none: the HTTP status alone decides. */
    envelope: envelopeSchema
      .optional()
      .describe("Where an answer's status and error code are, and which statuses mean success."),
    /** Default none: every answer gets the mapping of the built-in kinds. */
    errors: z
      .array(errorRowSchema)
      .max(100)
      .default([])
      .describe(
        'Rows from HTTP status and envelope code to what an answer means; first match wins.',
      ),
    mapping: mappingSchema.describe('Where the records and each normalized field are.'),
  })
  .superRefine((config, context) => {
    for (const problem of restConfigProblems(config)) {
      context.addIssue({ code: 'custom', path: problem.path, message: problem.message });
    }
  });

/** A `rest` provider's configuration with its secrets resolved. */
export type RestConfig = ResolvedProviderConfig<typeof restConfigSchema>;

type ParsedRestConfig = z.infer<typeof restConfigSchema>;
interface Problem {
  path: (string | number)[];
  message: string;
}

/** What no single field's schema can see, one problem per field. */
function restConfigProblems(config: ParsedRestConfig): Problem[] {
  return [
    ...templateProblems(config),
    ...mappingProblems(config.mapping),
    ...envelopeProblems(config),
    ...errorRowProblems(config),
    ...requestProblems(config),
    ...paginationProblems(config.pagination),
  ];
}

function templateProblems(config: ParsedRestConfig): Problem[] {
  const credentials = Object.keys(config.credentials).filter((name) => CREDENTIAL_NAME.test(name));
  // A name is not echoed: a secret pasted as a key would be printed.
  const badNames = Object.keys(config.credentials).length - credentials.length;
  const plain: TemplateScope = { credentials, token: false };
  const problems: Problem[] = [];
  if (badNames > 0) {
    problems.push({
      path: ['credentials'],
      message: `expected names of letters, digits and "_" (as {credentials.NAME} names them), received ${badNames} other${badNames === 1 ? '' : 's'} (not shown)`,
    });
  }
  const check = (text: string, path: (string | number)[], scope = plain) => {
    const parsed = parseTemplate(text, scope);
    if (typeof parsed === 'string') problems.push({ path, message: parsed });
  };
  const checkJson = (value: unknown, path: (string | number)[]) => {
    if (typeof value === 'string') check(value, path);
    else if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) checkJson(item, [...path, index]);
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) checkJson(item, [...path, key]);
    }
  };
  const { auth, request } = config;
  switch (auth.type) {
    case 'basic':
      check(auth.username, ['auth', 'username']);
      check(auth.password, ['auth', 'password']);
      break;
    case 'bearer':
      check(auth.token, ['auth', 'token']);
      break;
    case 'apiKey':
      check(auth.value, ['auth', 'value']);
      break;
    case 'oauth2ClientCredentials':
      check(auth.clientId, ['auth', 'clientId']);
      check(auth.clientSecret, ['auth', 'clientSecret']);
      break;
    case 'login':
      checkJson(auth.headers, ['auth', 'headers']);
      checkJson(auth.query, ['auth', 'query']);
      checkJson(auth.body, ['auth', 'body']);
      break;
  }
  if (auth.type === 'login' || auth.type === 'oauth2ClientCredentials') {
    if ('value' in auth.send) {
      const path = ['auth', 'send', 'value'];
      check(auth.send.value, path, { credentials, token: true });
      if (!auth.send.value.includes('{token}')) {
        problems.push({ path, message: 'expected a value holding {token}, received none' });
      }
    }
  }
  checkJson(request.headers, ['request', 'headers']);
  checkJson(request.query, ['request', 'query']);
  checkJson(request.body, ['request', 'body']);
  return problems;
}

function mappingProblems(mapping: RestMapping): Problem[] {
  const problems: Problem[] = [];
  // { "key": true } names the member a balance record is: only balances keyed by currency have one.
  const keyed = typeof mapping.balances === 'object' && !Array.isArray(mapping.balances);
  const keySources: [RestStringSource | undefined, (string | number)[], boolean][] = [
    [mapping.accountId, ['mapping', 'accountId'], false],
    [mapping.accountName, ['mapping', 'accountName'], false],
    [mapping.accountType, ['mapping', 'accountType'], false],
    [mapping.accountStatus, ['mapping', 'accountStatus'], false],
    [mapping.currency, ['mapping', 'currency'], true],
    [mapping.network, ['mapping', 'network'], true],
    [mapping.depositAddresses?.network, ['mapping', 'depositAddresses', 'network'], false],
  ];
  for (const [source, path, balanceField] of keySources) {
    if (typeof source !== 'object' || !('key' in source)) continue;
    if (!balanceField) {
      problems.push({
        path,
        message:
          'expected a pointer or a constant, received { "key": true } (a balance field only)',
      });
    } else if (!keyed) {
      problems.push({
        path,
        message:
          'expected mapping.balances keyed by currency ({ "at", "keys": "currency" }) for { "key": true }, received none',
      });
    }
  }
  if ((mapping.accounts === undefined) === (mapping.account === undefined)) {
    problems.push({
      path: ['mapping'],
      message:
        mapping.accounts === undefined
          ? 'expected "accounts" (a pointer to an array of account records) or "account" (a pointer to one), received neither'
          : 'expected "accounts" or "account", received both',
    });
  }
  // Every reference names a field the mapping has, and no field depends on itself.
  const components = Object.keys(mapping.components).filter(
    (kind) => mapping.components[kind as BalanceComponentKind] !== undefined,
  );
  const known = new Set(['total', 'available', ...components]);
  const dependsOn = new Map<string, string[]>();
  const collect = (source: RestAmountSource, path: (string | number)[], into: string[]) => {
    if (typeof source === 'string') {
      // Neither a pointer nor a field name: the schema has said so.
      if (isPointer(source) || !(REST_AMOUNT_REFERENCES as readonly string[]).includes(source)) {
        return;
      }
      if (!known.has(source)) {
        problems.push({
          path,
          message: `expected a field the mapping has (${[...known].join(', ')}), received ${source}`,
        });
      } else into.push(source);
      return;
    }
    const terms = 'sum' in source ? source.sum : 'minus' in source ? source.minus : undefined;
    const list = terms ?? ('firstOf' in source ? source.firstOf : undefined);
    const key = 'sum' in source ? 'sum' : 'minus' in source ? 'minus' : 'firstOf';
    list?.forEach((term, index) => {
      collect(term, [...path, key, index], into);
    });
  };
  const fields: [string, RestAmountSource, (string | number)[]][] = [
    ['total', mapping.total, ['mapping', 'total']],
    ['available', mapping.available, ['mapping', 'available']],
    ...components.map((kind): [string, RestAmountSource, (string | number)[]] => [
      kind,
      mapping.components[kind as BalanceComponentKind] as RestAmountSource,
      ['mapping', 'components', kind],
    ]),
  ];
  for (const [name, source, path] of fields) {
    const into: string[] = [];
    collect(source, path, into);
    dependsOn.set(name, into);
  }
  for (const [name, , path] of fields) {
    const cycle = findCycle(name, dependsOn);
    if (cycle !== undefined) {
      problems.push({
        path,
        message: `expected amounts that do not depend on themselves, received ${cycle.join(' -> ')}`,
      });
    }
  }
  return problems;
}

/** The path back to `start` through `edges`, if there is one. */
function findCycle(start: string, edges: ReadonlyMap<string, string[]>): string[] | undefined {
  const walk = (node: string, trail: string[]): string[] | undefined => {
    for (const next of edges.get(node) ?? []) {
      if (next === start) return [...trail, next];
      if (trail.includes(next)) continue;
      const found = walk(next, [...trail, next]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

function envelopeProblems(config: ParsedRestConfig): Problem[] {
  const { envelope } = config;
  if (envelope === undefined) return [];
  if ((envelope.statusAt === undefined) !== (envelope.success === undefined)) {
    return [
      {
        path: ['envelope'],
        message: 'expected "statusAt" and "success" together, received only one of them',
      },
    ];
  }
  if (envelope.statusAt === undefined && envelope.codeAt === undefined) {
    return [{ path: ['envelope'], message: 'expected "statusAt" and "success", or "codeAt"' }];
  }
  return [];
}

function errorRowProblems(config: ParsedRestConfig): Problem[] {
  const problems: Problem[] = [];
  const session = config.auth.type === 'login' || config.auth.type === 'oauth2ClientCredentials';
  const codeAt = config.envelope?.codeAt ?? config.envelope?.statusAt;
  config.errors.forEach((row, index) => {
    const path = ['errors', index];
    if (row.status === undefined && row.code === undefined) {
      problems.push({ path, message: 'expected "status", "code" or both, received neither' });
    }
    if (row.code !== undefined && codeAt === undefined) {
      problems.push({
        path: [...path, 'code'],
        message: 'expected envelope.codeAt (or statusAt) to say where the code is, received none',
      });
    }
    if (row.means === 'relogin' && !session) {
      problems.push({
        path: [...path, 'means'],
        message: `expected auth type login or oauth2ClientCredentials for relogin, received ${config.auth.type}`,
      });
    }
    if (row.dropsSession && !session) {
      problems.push({
        path: [...path, 'dropsSession'],
        message: `expected auth type login or oauth2ClientCredentials to drop a session, received ${config.auth.type}`,
      });
    }
    if (row.retryAfterAt !== undefined && row.means !== 'UPSTREAM_RATE_LIMITED') {
      problems.push({
        path: [...path, 'retryAfterAt'],
        message: `expected only with means UPSTREAM_RATE_LIMITED, received means ${row.means}`,
      });
    }
  });
  return problems;
}

function requestProblems(config: ParsedRestConfig): Problem[] {
  const { request, auth } = config;
  const problems: Problem[] = [];
  const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value);
  if (request.body !== undefined && request.method === 'GET') {
    problems.push({
      path: ['request', 'body'],
      message: 'expected request.method POST for a body, received method GET',
    });
  }
  if (
    request.currencies?.in === 'path' &&
    request.currencies.account !== undefined &&
    request.currencies.accounts !== undefined
  ) {
    problems.push({
      path: ['request', 'currencies'],
      message: 'expected "accounts" or "account", received both',
    });
  }
  if (request.currencies?.in === 'body') {
    if (request.method === 'GET') {
      problems.push({
        path: ['request', 'currencies', 'in'],
        message: 'expected request.method POST to send currencies in the body, received GET',
      });
    }
    if (request.body !== undefined && !isObject(request.body)) {
      problems.push({
        path: ['request', 'body'],
        message: 'expected an object to put the currencies in, received another JSON value',
      });
    }
    if (request.currencies.at === '') {
      problems.push({
        path: ['request', 'currencies', 'at'],
        message: 'expected a pointer to a member of the body, received "" (the whole body)',
      });
    }
  }
  if (auth.type === 'login') {
    if (auth.body !== undefined && auth.method === 'GET') {
      problems.push({
        path: ['auth', 'body'],
        message: 'expected auth.method POST for a body, received method GET',
      });
    }
    if (
      auth.bodyFormat === 'form' &&
      auth.body !== undefined &&
      !(isObject(auth.body) && Object.values(auth.body).every((value) => typeof value === 'string'))
    ) {
      problems.push({
        path: ['auth', 'body'],
        message: 'expected an object of strings for a form body, received another JSON value',
      });
    }
  }
  return problems;
}

function paginationProblems(pagination: ParsedRestConfig['pagination']): Problem[] {
  if (pagination.type !== 'page' && pagination.type !== 'cursor') return [];
  if ((pagination.sizeParam === undefined) !== (pagination.size === undefined)) {
    return [
      {
        path: ['pagination'],
        message: 'expected "sizeParam" and "size" together, received only one of them',
      },
    ];
  }
  return [];
}
