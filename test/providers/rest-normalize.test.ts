import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type RestMapping, restConfigSchema } from '../../src/providers/rest/config.js';
import { compileRestMapping } from '../../src/providers/rest/normalize.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { plainAccounts } from '../helpers/fixtures.js';

/**
 * The rest kind's mapping step, pure: a fixture's raw answer and mapping in, its expected accounts
 * out (test/fixtures/rest/*.json also hold the mapping they are read with). Then what does not fit
 * a mapping: each is a ContractViolation naming the path in the body, never the body's text.
 */

/** A mapping as the configuration schema checks and completes it. */
function mappingOf(mapping: unknown): RestMapping {
  return restConfigSchema.parse({
    id: 'r',
    kind: 'rest',
    baseUrl: 'http://upstream.test',
    mapping,
  }).mapping;
}

function read(mapping: unknown, body: string) {
  return plainAccounts(
    compileRestMapping(mappingOf(mapping)).read(parseLosslessJson(body)).accounts,
  );
}

const FIXTURES = new URL('../fixtures/rest/', import.meta.url);

describe('rest mapping (fixtures)', () => {
  for (const file of readdirSync(FIXTURES).filter((name) => name.endsWith('.json'))) {
    it(`reads ${file}`, () => {
      const text = readFileSync(new URL(file, FIXTURES), 'utf8');
      const fixture = JSON.parse(text) as { mapping: unknown; expected: unknown };
      const raw = (parseLosslessJson(text) as { raw: unknown }).raw;
      const accounts = compileRestMapping(mappingOf(fixture.mapping)).read(raw).accounts;
      expect(plainAccounts(accounts)).toEqual(fixture.expected);
    });
  }
});

const FLAT = {
  accounts: '/items',
  accountId: '/id',
  currency: '/ccy',
  total: '/total',
  available: '/available',
};

describe('an answer that does not fit the mapping', () => {
  it.each([
    ['{"items":{}}', 'body.items: expected an array, received an object'],
    ['{}', 'body.items: expected an array, received nothing'],
    ['{"items":[3]}', 'body.items[0]: expected an object, received a number'],
    [
      '{"items":[{"ccy":"USD","total":1,"available":1}]}',
      'body.items[0].id: expected a string, received nothing',
    ],
    [
      '{"items":[{"id":"a","ccy":"USD","total":"ten","available":1}]}',
      'body.items[0].total: expected an amount, received a string that is not a number',
    ],
    [
      '{"items":[{"id":"a","ccy":"USD","total":1e9000000,"available":1}]}',
      'body.items[0].total: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    ],
    [
      '{"items":[{"id":"a","ccy":"USD","available":1}]}',
      'body.items[0]: expected an amount for total (mapping.total), received nothing at any of its sources',
    ],
  ])('%s', (body, message) => {
    expect(() => read(FLAT, body)).toThrow(message);
  });

  it('names the path of a nested level and of a minor-unit amount', () => {
    const nested = {
      ...FLAT,
      balances: ['/wallets', '/positions'],
      total: { at: '/units', minorUnits: { exponentAt: '/exp' } },
    };
    expect(() => read(nested, '{"items":[{"id":"a","wallets":[{"positions":"x"}]}]}')).toThrow(
      'body.items[0].wallets[0].positions: expected an array or an object, received a string',
    );
    // One object at a level is one record.
    expect(
      read(
        nested,
        '{"items":[{"id":"a","wallets":{"positions":{"ccy":"EUR","available":2,"units":250,"exp":2}}}]}',
      ),
    ).toMatchObject([{ balances: [{ currency: 'EUR', total: '2.5', available: '2' }] }]);
    const position = (units: string, exp: string) =>
      `{"items":[{"id":"a","wallets":[{"positions":[{"ccy":"USD","available":1,"units":${units},"exp":${exp}}]}]}]}`;
    expect(() => read(nested, position('1.5', '2'))).toThrow(
      'body.items[0].wallets[0].positions[0].units: expected an integer in minor units, received a fraction',
    );
    expect(() => read(nested, position('150', '41'))).toThrow(
      'body.items[0].wallets[0].positions[0].exp: expected an exponent from 0 to 40, received a value outside that range',
    );
    expect(() => read(nested, position('150', 'null'))).toThrow(
      'body.items[0].wallets[0].positions[0].exp: expected an exponent from 0 to 40, received null',
    );
    expect(read(nested, position('"150"', '"2"'))).toMatchObject([
      { balances: [{ total: '1.5' }] },
    ]);
  });

  it('refuses a difference outside the bounds of an amount, and never shows a body text', () => {
    const max = `9${'9'.repeat(39)}`;
    const mapping = { ...FLAT, available: { minus: ['total', '/debt'] } };
    expect(() =>
      read(mapping, `{"items":[{"id":"a","ccy":"USD","total":${max},"debt":-${max}}]}`),
    ).toThrow(
      'body.items[0]: expected an amount of at most 40 digits before the point and 40 after, received a difference outside those bounds',
    );
    let message = '';
    try {
      read(FLAT, '{"items":[{"id":"a","ccy":"USD","total":"SECRET-TEXT-1","available":1}]}');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('body.items[0].total');
    expect(message).not.toContain('SECRET-TEXT-1');
  });

  it('reads a pointer with escaped keys, and finds nothing through a number or a prototype', () => {
    const mapping = { ...FLAT, accountId: '/a~1b', currency: '/c~0d', total: '/t/value' };
    expect(() =>
      read(mapping, '{"items":[{"a/b":"x","c~d":"usd","t":1.5,"available":1}]}'),
    ).toThrow('body.items[0]: expected an amount for total (mapping.total)');
    expect(
      read(
        { ...mapping, total: '/t' },
        '{"items":[{"a/b":"x","c~d":"usd","t":1.5,"available":1}]}',
      ),
    ).toMatchObject([{ upstreamId: 'x', balances: [{ currency: 'USD', total: '1.5' }] }]);
    expect(() =>
      read(
        { ...FLAT, accountId: '/constructor' },
        '{"items":[{"ccy":"USD","total":1,"available":1}]}',
      ),
    ).toThrow('body.items[0].constructor: expected a string, received nothing');
  });
});
