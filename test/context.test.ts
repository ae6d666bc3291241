import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequestContext } from '../src/context.js';
import { startTestApp, type TestApp } from './helpers/app.js';

describe('a request context', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ kinds: ['prepaid'] });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('refuses a caller whose tenant a reload removed after it was authenticated, as unauthenticated (401), not as an unexpected error', () => {
    let thrown: unknown;
    try {
      createRequestContext(app.runtime, 'gone', 1000);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).message).toBe(
      "Unauthenticated: the caller's tenant is no longer configured.",
    );
    expect((thrown as GraphQLError).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      http: { status: 401 },
    });
  });
});
