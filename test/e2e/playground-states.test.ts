import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTenant } from './http-flow.ts';
import {
  newAdminToken,
  ROOT,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
} from './server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const SCREENS = join(ROOT, 'test-results/playground-states');

const PROBLEM_500 = {
  type: 'https://minirag.dev/problems/internal',
  title: 'Internal Server Error',
  status: 500,
  detail: 'Something went wrong on our side; the request id is abc123.',
};

/**
 * What a user sees when there is nothing yet (a new tenant) and when the API fails, view by view: each state is
 * photographed to test-results/playground-states/ and checked for its text. Errors are readable sentences, never
 * a raw response, and they go away with the next thing that succeeds.
 */
describe.skipIf(!hasChromium)(
  hasChromium
    ? 'the playground, empty and failing, in headless Chromium'
    : `the playground's empty and error states — SKIPPED: ${CHROMIUM} is not installed`,
  { timeout: 120_000 },
  () => {
    let server: ServerProcess;
    let dataDir: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let token: string;
    let pageErrors: string[];
    const adminToken = newAdminToken();

    const shot = (name: string) => page.screenshot({ path: join(SCREENS, `${name}.png`) });
    const notice = () => page.locator('#notice');
    const signIn = async (value: string) => {
      await page.getByLabel('API token').fill(value);
      await page.getByRole('button', { name: 'Sign in' }).click();
    };

    beforeAll(async () => {
      await mkdir(SCREENS, { recursive: true });
      dataDir = await tempDir('minirag-states-data-');
      server = await startServer({ dataDir, adminToken, timeoutMs: 90_000 });
      token = await createTenant(server.url, adminToken, 'empty');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
      });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop('SIGKILL');
      await removeDir(dataDir);
    });

    beforeEach(async () => {
      context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      pageErrors = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${server.url}/`);
      return async () => {
        expect(pageErrors).toEqual([]);
        await context.close();
      };
    });

    it('when a sign-in fails and the next one succeeds then the error toast is gone', async () => {
      await signIn('mrag_not_a_real_token_0000000000000000');
      const error = notice().locator('.notice-error');
      await error.waitFor();
      expect(await error.textContent()).toMatch(/token/i);
      await shot('01-sign-in-failed');

      await signIn(token);
      await expect.poll(() => page.locator('#who-name').textContent()).toContain('Tenant empty');
      expect(await notice().locator('.notice').count()).toBe(0);
      await shot('02-signed-in-after-failure');
    });

    it('when a new tenant opens each view then each says what is missing and how to add it', async () => {
      await signIn(token);
      await page.locator('#who-name').getByText('Tenant empty').waitFor();

      await expect
        .poll(() => page.locator('#messages').textContent())
        .toContain('No sources yet: add documents');
      expect(await page.locator('#chat-bot option').first().textContent()).toMatch(/Default bot/);
      await shot('03-empty-chat');

      await page.getByRole('tab', { name: 'Sources' }).click();
      await expect
        .poll(() => page.locator('#sources-body').textContent())
        .toContain('No sources yet: upload a file or add a URL.');
      await shot('04-empty-sources');

      await page.getByRole('tab', { name: 'Bots' }).click();
      await expect.poll(() => page.locator('#bot-list').textContent()).toContain('No bots yet.');
      await shot('05-empty-bots');

      await page.getByRole('tab', { name: 'Usage' }).click();
      await expect.poll(() => page.locator('#usage-summary').textContent()).toContain('No usage yet');
      expect(await page.locator('#usage-chart').isVisible()).toBe(false);
      await shot('06-empty-usage');
      expect(await notice().locator('.notice').count()).toBe(0);
    });

    it('when the API fails then every view says so in a sentence, and the next success clears it', async () => {
      await signIn(token);
      await page.locator('#who-name').getByText('Tenant empty').waitFor();
      // From here on the lists fail: one with a problem document, the others as a gateway would (no JSON).
      const lists = /\/v1\/(sources|bots|usage)(\?|$)/;
      await page.route(lists, (route) => {
        const path = new URL(route.request().url()).pathname;
        return path === '/v1/sources'
          ? route.fulfill({
              status: 500,
              contentType: 'application/problem+json',
              body: JSON.stringify(PROBLEM_500),
            })
          : path === '/v1/bots'
            ? route.fulfill({ status: 502, contentType: 'text/html', body: '<html>Bad Gateway</html>' })
            : route.fulfill({
                status: 503,
                contentType: 'application/json',
                body: '{"message":"Service Unavailable"}',
              });
      });

      await page.getByRole('tab', { name: 'Sources' }).click();
      const sourcesError = page.locator('#panel-sources [role="alert"]');
      await sourcesError.waitFor();
      expect(await sourcesError.textContent()).toContain(
        'The sources could not be loaded: Something went wrong on our side; the request id is abc123.',
      );
      await shot('07-error-sources');

      await page.getByRole('tab', { name: 'Bots' }).click();
      const botsError = page.locator('#panel-bots [role="alert"]');
      await botsError.waitFor();
      expect(await botsError.textContent()).toContain(
        'The bots could not be loaded: The server answered HTTP 502.',
      );
      // The new-bot form still works, and shows the provider fields only once a provider is chosen.
      expect(await page.getByLabel('API key').isVisible()).toBe(false);
      await shot('08-error-bots');

      await page.getByRole('tab', { name: 'Usage' }).click();
      const usageError = page.locator('#panel-usage [role="alert"]');
      await usageError.waitFor();
      expect(await usageError.textContent()).toContain('The usage could not be loaded: Service Unavailable');
      expect(await page.locator('#usage-chart').isVisible()).toBe(false);
      await shot('09-error-usage');

      await page.getByRole('tab', { name: 'Chat' }).click();
      const chatError = page.locator('#panel-chat [role="alert"]');
      await chatError.waitFor();
      expect(await chatError.textContent()).toContain('The bots could not be loaded');
      await shot('10-error-chat');
      // No view shows a raw response body.
      expect(await page.locator('main').textContent()).not.toMatch(/[{}]|<html>|"detail"/);
      expect(await notice().textContent()).not.toMatch(/[{}]|<html>/);

      // The API recovers: "Try again" replaces the view's error with its data, and other views load again.
      await page.unroute(lists);
      await page.locator('#panel-chat').getByRole('button', { name: 'Try again' }).click();
      await expect.poll(() => page.locator('#chat-bot option').first().textContent()).toMatch(/Default bot/);
      expect(await page.locator('#panel-chat [role="alert"]').count()).toBe(0);
      await page.getByRole('tab', { name: 'Sources' }).click();
      await expect
        .poll(() => page.locator('#sources-body').textContent())
        .toContain('No sources yet: upload a file or add a URL.');
      expect(await page.locator('#panel-sources [role="alert"]').count()).toBe(0);
      await page.getByRole('tab', { name: 'Bots' }).click();
      await expect.poll(() => page.locator('#bot-list').textContent()).toContain('No bots yet.');
      expect(await page.locator('#panel-bots [role="alert"]').count()).toBe(0);
      expect(await notice().locator('.notice-error').count()).toBe(0);
      await shot('11-recovered-bots');
    });

    it('when an action fails and a later one succeeds in another view then the error toast is gone', async () => {
      await signIn(token);
      await page.locator('#who-name').getByText('Tenant empty').waitFor();
      await page.getByRole('tab', { name: 'Sources' }).click();
      await page.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:22/');
      await page.getByRole('button', { name: 'Add URL' }).click();
      const error = notice().locator('.notice-error');
      await error.waitFor();
      expect(await error.textContent()).not.toMatch(/[{}]/);
      await shot('12-action-failed');

      await page.getByRole('tab', { name: 'Bots' }).click();
      await page.getByLabel('Name').fill('Helper');
      await expect.poll(() => page.locator('#bot-list').textContent()).toContain('No bots yet.');
      expect(await page.getByLabel('Name').inputValue()).toBe('Helper');
      await page.getByRole('button', { name: 'Create bot' }).click();
      await page.locator('.bot-item', { hasText: 'Helper' }).waitFor();
      expect(await notice().locator('.notice-error').count()).toBe(0);
    });
  },
);
