import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const DOCUMENT = `# The night ferry

The night ferry to Kelpie Island leaves the harbour at 23:40 every Friday.
Passengers must show their boarding pass at the blue gate, and bicycles travel free of charge.
`;

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'the web playground in headless Chromium'
    : `the web playground in headless Chromium — SKIPPED: ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  { timeout: 60_000 },
  () => {
    let server: ServerProcess;
    let dataDir: string;
    let profile: string;
    let context: BrowserContext;
    let page: Page;
    let token: string;
    const adminToken = newAdminToken();

    beforeAll(async () => {
      dataDir = await tempDir('minirag-browser-data-');
      profile = await tempDir('minirag-browser-profile-');
      server = await startServer({ dataDir, adminToken });
      token = await createTenant(server.url, adminToken, 'browser');
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-quic',
          '--no-first-run',
          '--disable-sync',
        ],
        viewport: { width: 1280, height: 860 },
      });
      page = context.pages()[0] ?? (await context.newPage());
    });

    afterAll(async () => {
      await context?.close();
      await server?.stop('SIGKILL');
      await removeDir(dataDir);
      await removeDir(profile);
    });

    it('when a user signs in, uploads a file and asks about it, then the answer streams in and a citation opens the cited passage', async () => {
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));

      await page.goto(`${server.url}/`);
      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(() => page.locator('#who-name').textContent()).toContain('Tenant browser');

      // Upload (a direct upload: declare, PUT with progress, complete) and watch the status change to COMPLETED.
      await page.getByRole('tab', { name: 'Sources' }).click();
      await page.getByLabel('PDF, DOCX, HTML, Markdown or text').setInputFiles({
        name: 'ferry.md',
        mimeType: 'text/markdown',
        buffer: Buffer.from(DOCUMENT),
      });
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      const row = page.locator('#sources-body tr', { hasText: 'ferry.md' });
      await row.locator('[data-status="COMPLETED"]').waitFor({ timeout: 20_000 });

      // Ask; record every change of the answer's text to see that it arrives in pieces.
      await page.getByRole('tab', { name: 'Chat' }).click();
      await page.evaluate(() => {
        const seen: number[] = [];
        (window as unknown as { answerLengths: number[] }).answerLengths = seen;
        new MutationObserver(() => {
          const answer = document.querySelector('.answer');
          if (answer) seen.push(answer.textContent?.length ?? 0);
        }).observe(document.querySelector('#messages')!, {
          childList: true,
          subtree: true,
          characterData: true,
        });
      });
      await page.getByLabel('Your question').fill('When does the night ferry leave the harbour?');
      await page.getByRole('button', { name: 'Send' }).click();
      const answer = page.locator('.msg.bot .answer').last();
      await page.locator('.msg-sources').last().waitFor({ timeout: 20_000 });
      await expect.poll(() => answer.textContent()).toContain('23:40');
      // No language model wrote it: the line under the answer says so instead of token counts.
      expect(await page.locator('.msg.bot .msg-meta').last().textContent()).toBe('extractive, no model');
      const lengths = await page.evaluate(
        () => (window as unknown as { answerLengths: number[] }).answerLengths,
      );
      expect(
        new Set(lengths.filter((n) => n > 0)).size,
        'the answer should be rendered as it streams',
      ).toBeGreaterThan(3);

      // A citation [n] in the answer opens the panel with the source's title and the cited passage.
      await answer.locator('button.cite').first().click();
      const panel = page.locator('#citation-panel');
      await panel.waitFor({ state: 'visible' });
      expect(await page.locator('#citation-title').textContent()).toMatch(/^\[\d+\] ferry\.md$/);
      expect(await page.locator('#citation-snippet').textContent()).toContain(
        'The night ferry to Kelpie Island',
      );

      await mkdir(join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-results/playground.png') });
      expect(pageErrors).toEqual([]);
    });

    it('when a bot is given a provider key, then the playground only ever shows its last four characters', async () => {
      await page.getByRole('tab', { name: 'Bots' }).click();
      await page.getByRole('button', { name: 'New bot' }).click();
      await page.getByLabel('Name').fill('Writer');
      await page.getByLabel('Provider').selectOption('openai');
      await page.getByLabel('API key').fill('sk-test-secret-9876abcd');
      await page.getByRole('button', { name: 'Create bot' }).click();
      const item = page.locator('.bot-item', { hasText: 'Writer' });
      await item.waitFor();
      expect(await item.textContent()).toContain('…abcd');
      expect(await page.getByLabel('API key').inputValue()).toBe('');
      expect(await page.locator('#bot-key-state').textContent()).toContain('configured …abcd');
      expect(await page.content()).not.toContain('sk-test-secret-9876abcd');
    });
  },
);
