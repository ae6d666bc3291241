import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { demoConfigDocument } from './helpers/app.js';
import { type RunningCommand, startCommand } from './helpers/process.js';

/**
 * GraphiQL in a real browser: Debian's Chromium, driven headless by playwright-core, against the
 * real `balance-api` command configured with the demo tenant of the five built-in kinds (against a
 * sandbox of the test's, so that adding a kind changes nothing here), with every network request
 * that is not to the server refused and recorded.
 */
const CHROMIUM = '/usr/bin/chromium';

describe('GraphiQL in headless Chromium', () => {
  let sandbox: Sandbox;
  let server: RunningCommand;
  let origin = '';
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does it)`);
    }
    sandbox = await startSandbox();
    const dir = mkdtempSync(join(tmpdir(), 'balance-graphiql-'));
    const configPath = join(dir, 'balance-api.json');
    writeFileSync(
      configPath,
      JSON.stringify({
        server: { host: '127.0.0.1' },
        ...demoConfigDocument((kind) => `${sandbox.origin}/${kind}`),
      }),
    );
    server = startCommand(['serve', '--config', configPath, '--port', '0']);
    const [, url] = await server.waitForOutput(/GraphiQL at (http:\/\/\S+)\/graphql/);
    origin = url as string;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await sandbox?.close();
  });

  it('runs the default dashboard query and shows balances from all five kinds, fetching nothing from outside', async () => {
    // Tall enough that the result editor renders every line of the answer.
    const context = await browser.newContext({ viewport: { width: 1400, height: 16_000 } });
    const outside: string[] = [];
    const served: string[] = [];
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin)) {
        served.push(url);
        return route.continue();
      }
      outside.push(url);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));

    await page.goto(`${origin}/graphql`, { waitUntil: 'load' });
    const button = page.locator('.graphiql-execute-button');
    await button.waitFor({ state: 'visible', timeout: 30_000 });
    // The query editor opens on the dashboard operation of schema/operations/.
    await expect
      .poll(
        () =>
          page
            .locator('.graphiql-query-editor .view-lines')
            .innerText()
            .then((text) => text.replaceAll('\u00a0', ' ')),
        { timeout: 15_000 },
      )
      .toContain('query Dashboard');

    const answered = page.waitForResponse(
      (response) =>
        response.url().startsWith(`${origin}/graphql`) &&
        response.request().method() === 'POST' &&
        (response.request().postData() ?? '').includes('Dashboard'),
    );
    await button.click();
    const response = await answered;
    const body = (await response.json()) as {
      data: { providers: { id: string; kind: string; accounts: unknown[] }[] };
    };
    expect(body.data.providers.map((provider) => provider.kind)).toEqual([
      'PIK',
      'ASSET_ACCOUNTS',
      'MERCHANT',
      'WALLET',
      'PREPAID',
      'PREPAID',
    ]);

    // What a person sees in the result pane.
    const resultPane = page.locator('.graphiql-response .view-lines');
    await expect.poll(() => resultPane.innerText(), { timeout: 15_000 }).toContain('"totals"');
    // The pane wraps long lines; compare with white space folded.
    const shown = (await resultPane.innerText()).replace(/[\s\u00a0]+/g, ' ');
    for (const id of ['pik-main', 'ops', 'acquirer', 'treasury', 'sms', 'voice']) {
      expect(shown).toContain(`"id": "${id}"`);
    }
    expect(shown).toContain('"total": "9007199254740993.01"');
    expect(shown).toContain('"total": "12386.00"');
    expect(shown).toContain('"address": "TW6fBsVChypHoN3xFXpizHFJNQa7b1wRWc"');
    expect(shown).toContain('"total": "14.3456"');
    expect(shown).toContain('"total": "2500.10"');

    await page.setViewportSize({ width: 1400, height: 900 });
    await page.screenshot({ path: 'test/.artifacts/graphiql.png' });

    expect(pageErrors).toEqual([]);
    expect(served.length).toBeGreaterThan(0);
    // Nothing was fetched, or even attempted, from anywhere but the server.
    expect(outside).toEqual([]);
    // ...and the net that would have caught it does catch such a request.
    await page.evaluate(() =>
      fetch('https://cdn.example.invalid/graphiql.js').catch(() => undefined),
    );
    expect(outside).toEqual(['https://cdn.example.invalid/graphiql.js']);
    await context.close();
  }, 90_000);
});
