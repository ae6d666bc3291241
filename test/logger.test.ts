import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, describeUnexpectedError, redactSecrets } from '../src/logger.js';

describe('log redaction', () => {
  it('redacts secret-named keys in any casing, at any depth', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = createLogger({ destination });
    log.info(
      {
        headers: {
          Authorization: 'Bearer canary-1',
          OTP: 'canary-2',
          'X-Api-Key': 'canary-3',
          'x-REFRESH-token': 'canary-4',
        },
        nested: [
          { credentials: { appSecret: 'canary-5' } },
          { password: 'canary-6', ClientSecret: 'canary-7' },
        ],
        providerId: 'pik-main',
      },
      'upstream call',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    for (let i = 1; i <= 7; i += 1) expect(line).not.toContain(`canary-${i}`);
    expect(JSON.parse(line)).toMatchObject({
      providerId: 'pik-main',
      headers: {
        Authorization: '[redacted]',
        OTP: '[redacted]',
        'X-Api-Key': '[redacted]',
        'x-REFRESH-token': '[redacted]',
      },
      nested: [
        { credentials: '[redacted]' },
        { password: '[redacted]', ClientSecret: '[redacted]' },
      ],
      msg: 'upstream call',
    });
  });

  it('keeps everything else as it was', () => {
    expect(redactSecrets({ a: 1, b: ['x', { c: null }], route: 'login' })).toEqual({
      a: 1,
      b: ['x', { c: null }],
      route: 'login',
    });
  });
});

describe('an unexpected error in the log', () => {
  it('names the error and where it was thrown, never its message', () => {
    const error = Object.assign(new TypeError(`bad input "${'canary-secret-7f3a9c'}"`), {
      code: 'ERR_X',
    });
    const described = describeUnexpectedError(error);
    expect(described).toMatchObject({ errorName: 'TypeError', errorCode: 'ERR_X' });
    expect(described.at).toMatch(/logger\.test\.ts/);
    expect(JSON.stringify(described)).not.toContain('canary');
  });
});
