import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoSandboxData, type SandboxData } from '../src/sandbox/demo.js';
import { demoConfigWith } from './helpers/app.js';
import { type LiveApp, startLiveApp } from './helpers/live.js';

const CHROMIUM = '/usr/bin/chromium';

describe('a subscription in GraphiQL (headless Chromium)', () => {
  let app: LiveApp;
  let data: SandboxData;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (.ci/run does it)`);
    }
    data = createDemoSandboxData();
    app = await startLiveApp({
      data,
      kinds: ['pik'],
      configDocument: demoConfigWith({ pollIntervalMs: 1000 }, ['pik']),
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-quic'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows the SNAPSHOT, then a CHANGED event when a balance changes', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 3000 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The subscription in the page's address, as a link to GraphiQL can carry it.
    const subscription =
      'subscription Live { balanceEvents(providerIds: ["pik-main"], currencies: ["EUR"]) { kind currency balance { total } previous { total } } }';
    await page.goto(`${app.url}?query=${encodeURIComponent(subscription)}`, { waitUntil: 'load' });
    const button = page.locator('.graphiql-execute-button');
    await button.waitFor({ state: 'visible', timeout: 30_000 });
    const editor = page.locator('.graphiql-query-editor .view-lines');
    await expect
      .poll(async () => (await editor.innerText()).replaceAll('\u00a0', ' '), { timeout: 15_000 })
      .toContain('subscription Live');
    await button.click();
    const resultPane = page.locator('.graphiql-response .view-lines');
    const shown = async () => (await resultPane.innerText()).replace(/[\s\u00a0]+/g, ' ');
    await expect.poll(shown, { timeout: 15_000 }).toContain('"kind": "SNAPSHOT"');
    expect(await shown()).toContain('"total": "9007199254740993.01"');

    const eur = data.pik.customers[0]?.records[1];
    if (eur === undefined) throw new Error('demo data changed');
    eur.balance = '9007199254740994.00';
    await expect
      .poll(
        async () => {
          app.timers.advance(1000);
          return shown();
        },
        { timeout: 15_000 },
      )
      .toContain('"kind": "CHANGED"');
    expect(await shown()).toContain('"total": "9007199254740994.00"');
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 90_000);
});
