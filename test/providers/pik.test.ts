import { describe, expect, it } from 'vitest';
import {
  normalizePikBalanceByCurrency,
  normalizePikBalanceList,
} from '../../src/providers/pik/normalize.js';
import { parseLosslessJson } from '../../src/upstream/json.js';
import { loadFixture, plainAccounts } from '../helpers/fixtures.js';

describe('pik normalization (fixtures)', () => {
  for (const name of ['seed-example', 'precision']) {
    it(`normalizes ${name}`, () => {
      const fixture = loadFixture('pik', name);
      expect(plainAccounts(normalizePikBalanceList(fixture.raw))).toEqual(fixture.expected);
    });
  }

  it('reads Get Balance by Currency, whose data is one record', () => {
    const fixture = loadFixture('pik', 'precision');
    const list = fixture.raw as { data: unknown[] };
    const single = { code: parseLosslessJson('200'), message: 'success', data: list.data[0] };
    expect(plainAccounts(normalizePikBalanceByCurrency(single))).toEqual([
      (fixture.expected as unknown[])[0],
    ]);
  });

  it('names the field and the type received when an amount is missing or wrong', () => {
    const body = parseLosslessJson(
      '{"code":200,"data":[{"balanceNo":"B","currencyCode":"USD","balance":"abc","availableBalance":1,"frozenBalance":0,"pendingBalance":0}]}',
    );
    expect(() => normalizePikBalanceList(body)).toThrow(
      'body.data[0].balance: expected an amount, received a string that is not a number',
    );
    const missing = parseLosslessJson(
      '{"code":200,"data":[{"balanceNo":"B","currencyCode":"USD","balance":1,"frozenBalance":0,"pendingBalance":0}]}',
    );
    expect(() => normalizePikBalanceList(missing)).toThrow(
      'body.data[0].availableBalance: expected an amount, received nothing',
    );
    expect(() => normalizePikBalanceList(parseLosslessJson('{"code":200,"data":{}}'))).toThrow(
      'body.data: expected an array, received an object',
    );
  });

  it('refuses a number outside the bounds of an amount by its path, without expanding it', () => {
    const record = (amounts: string) =>
      `{"balanceNo":"B","currencyCode":"USD",${amounts},"frozenBalance":0,"pendingBalance":0}`;
    const list = parseLosslessJson(
      `{"code":200,"data":[${record('"balance":1,"availableBalance":1')},${record('"balance":1e9000000,"availableBalance":1')}]}`,
    );
    expect(() => normalizePikBalanceList(list)).toThrow(
      'body.data[1].balance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
    const single = parseLosslessJson(
      `{"code":200,"data":${record('"balance":1,"availableBalance":-1e-9000000')}}`,
    );
    expect(() => normalizePikBalanceByCurrency(single)).toThrow(
      'body.data.availableBalance: expected an amount of at most 40 digits before the point and 40 after, received a number outside those bounds',
    );
  });
});
