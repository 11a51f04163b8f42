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

    it('when a user opens "Why this answer?" then the panel shows the query, ranked candidates and stage timings, and a thumb rates the answer', async () => {
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.getByRole('tab', { name: 'Chat' }).click();
      await page.getByLabel('Your question').fill('Do bicycles travel free on the night ferry?');
      await page.getByRole('button', { name: 'Send' }).click();
      const message = page.locator('.msg.bot').last();
      const why = message.getByRole('button', { name: 'Why this answer?' });
      await why.waitFor({ timeout: 20_000 });
      await why.click();
      expect(await why.getAttribute('aria-expanded')).toBe('true');
      const panel = message.locator('.trace-panel');
      await panel.locator('.trace-table').waitFor({ timeout: 10_000 });
      expect(await panel.locator('.trace-query').textContent()).toContain('question as asked');
      // The kept chunk: its passage number, both rankings and the fused score.
      const kept = panel.locator('.trace-table tr.kept').first();
      expect(await kept.locator('td').nth(3).textContent()).toBe('[1]');
      expect(await kept.locator('td').nth(0).textContent()).toMatch(/^1 · \d+\.\d{4}$/);
      expect(await kept.locator('td').nth(1).textContent()).toMatch(/^1 · \d+\.\d{2}$/);
      expect(await kept.locator('td').nth(4).textContent()).toContain('ferry.md');
      const stages = await panel.locator('.timing-name').allTextContents();
      expect(stages).toEqual(
        expect.arrayContaining(['Vector search', 'Full-text search', 'Generation', 'Total']),
      );
      const barWidths = await panel
        .locator('.timing-bar')
        .evaluateAll((bars) => bars.map((b) => (b as HTMLElement).getBoundingClientRect().width));
      expect(barWidths.length).toBeGreaterThan(8);
      expect(Math.max(...barWidths)).toBeGreaterThan(20);

      const down = message.getByRole('button', { name: 'Bad answer' });
      await down.click();
      await expect.poll(() => down.getAttribute('aria-pressed')).toBe('true');
      expect(await message.getByRole('button', { name: 'Good answer' }).getAttribute('aria-pressed')).toBe(
        'false',
      );

      await mkdir(join(ROOT, 'test-results'), { recursive: true });
      await page.setViewportSize({ width: 1280, height: 1400 });
      await panel.evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await page.screenshot({ path: join(ROOT, 'test-results/why-this-answer.png') });
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
