import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, Http, settled } from './http-flow.ts';
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
const SCREENS = process.env.WIDGET_SCREENS_DIR ?? join(ROOT, 'test-results', 'widget');

const DOCUMENT = `# The night ferry

The night ferry to Kelpie Island leaves the harbour at 23:40 every Friday.
Passengers must show their boarding pass at the blue gate, and bicycles travel free of charge.
`;

interface Site {
  readonly server: Server;
  readonly origin: string;
  /** The publishable key its snippet carries (the key is made once the site's origin is known). */
  key: string;
}

/**
 * A tenant's website on its own port (another origin than the API), with styles that would wreck any
 * widget they could reach, and the snippet the playground hands out.
 */
async function startSite(api: string): Promise<Site> {
  const server = createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Kelpie Ferries help centre</title>
<style>
  body { font-family: Georgia, serif; margin: 40px; background: #fbf7ef; color: #333 }
  button, div, textarea, form { background: hotpink !important; font-size: 40px !important; border: 5px dashed lime !important }
</style></head>
<body><h1>Kelpie Ferries help centre</h1><p>Timetables, tickets and travelling with bicycles.</p>
<script src="${api}/widget.js" data-key="${site.key}" data-api="${api}"></script>
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const site: Site = {
    server,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    key: '',
  };
  return site;
}

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'the website widget in headless Chromium'
    : `the website widget in headless Chromium — SKIPPED: ${CHROMIUM} is not installed`,
  { timeout: 90_000 },
  () => {
    let server: ServerProcess;
    let dataDir: string;
    let profile: string;
    let context: BrowserContext;
    let page: Page;
    let allowedSite: Site;
    let otherSite: Site;
    let tenantToken: string;
    const adminToken = newAdminToken();

    beforeAll(async () => {
      await mkdir(SCREENS, { recursive: true });
      dataDir = await tempDir('minirag-widget-data-');
      profile = await tempDir('minirag-widget-profile-');
      server = await startServer({ dataDir, adminToken, timeoutMs: 120_000 });
      tenantToken = await createTenant(server.url, adminToken, 'widget');
      const http = new Http(server.url, tenantToken);
      await http.post('/v1/sources', {
        title: 'Night ferry timetable',
        type: 'markdown',
        content: DOCUMENT,
        url: 'https://ferries.example.com/night-ferry',
      });
      await settled(http, 1, 60_000);
      const bot = await http.post<{ id: string }>('/v1/bots', { name: 'Kelpie Ferries assistant' });
      allowedSite = await startSite(server.url);
      otherSite = await startSite(server.url);
      const { key } = await http.post<{ key: string }>(`/v1/bots/${bot.id}/publishable-keys`, {
        allowed_origins: [allowedSite.origin],
      });
      allowedSite.key = key;
      otherSite.key = key;
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
        viewport: { width: 1280, height: 860 },
      });
      page = context.pages()[0] ?? (await context.newPage());
    }, 240_000);

    afterAll(async () => {
      await context?.close();
      await server?.stop('SIGKILL');
      for (const site of [allowedSite, otherSite]) await new Promise((r) => site?.server.close(r));
      await removeDir(dataDir);
      await removeDir(profile);
    });

    it('when a visitor of an allowed site asks a question then the answer streams in with its cited source, and the site CSS does not reach the widget', async () => {
      const site = allowedSite.origin;
      const hosts = new Set<string>();
      const errors: string[] = [];
      page.on('request', (request) => hosts.add(new URL(request.url()).origin));
      page.on('pageerror', (error) => errors.push(String(error)));
      const streamed = page.waitForResponse(
        (r) => r.url().includes('/messages') && r.request().method() === 'POST',
      );

      await page.goto(site);
      const launcher = page.getByRole('button', { name: 'Open chat' });
      await launcher.click();
      const dialog = page.getByRole('dialog', { name: 'Kelpie Ferries assistant' });
      await expect.poll(() => dialog.isVisible()).toBe(true);
      const input = page.getByRole('textbox', { name: 'Your question' });
      await expect
        .poll(() => input.evaluate((el) => el === (el.getRootNode() as ShadowRoot).activeElement))
        .toBe(true);
      await input.fill('When does the night ferry leave?');
      await input.press('Enter');

      const answer = dialog.locator('.msg.bot').last();
      await expect.poll(() => answer.textContent(), { timeout: 30_000 }).toContain('23:40');
      const response = await streamed;
      expect(response.headers()['content-type']).toContain('text/event-stream');
      expect(response.headers()['access-control-allow-origin']).toBe(site);
      const link = dialog.getByRole('link', { name: /Night ferry timetable/ });
      await expect.poll(() => link.getAttribute('href')).toBe('https://ferries.example.com/night-ferry');
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer');

      // The page's `button { background: hotpink !important }` stops at the shadow root.
      const sendColour = await page
        .getByRole('button', { name: 'Send' })
        .evaluate((el) => getComputedStyle(el).backgroundColor);
      expect(sendColour).not.toBe('rgb(255, 105, 180)');
      expect(await answer.evaluate((el) => getComputedStyle(el).fontSize)).toBe('15px');
      expect(
        await page.locator('minirag-chat').evaluate((el) => getComputedStyle(el).backgroundColor),
      ).not.toBe('rgb(255, 105, 180)');
      await page.screenshot({ path: join(SCREENS, 'widget-answer.png') });

      // Keyboard: Escape closes and gives focus back to the launcher; Enter on it opens again.
      await page.keyboard.press('Escape');
      await expect.poll(() => dialog.isVisible()).toBe(false);
      await page.keyboard.press('Enter');
      await expect.poll(() => dialog.isVisible()).toBe(true);

      expect([...hosts].sort()).toEqual([server.url, site].sort());
      expect(errors).toEqual([]);
    });

    it('when the page is reloaded on a phone-sized screen then the conversation is still there and the panel fills the screen', async () => {
      await page.setViewportSize({ width: 390, height: 760 });
      await page.reload();
      const dialog = page.getByRole('dialog', { name: 'Kelpie Ferries assistant' });
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await expect.poll(() => dialog.locator('.msg.bot').last().textContent()).toContain('23:40');
      const box = await dialog.boundingBox();
      expect(box?.width).toBe(390);
      await page.screenshot({ path: join(SCREENS, 'widget-mobile.png') });
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    it('when the same page is served from an origin the key does not allow then the widget says it is not available here', async () => {
      await page.goto(otherSite.origin);
      await page.getByRole('button', { name: 'Open chat' }).click();
      const dialog = page.getByRole('dialog');
      await expect
        .poll(() => dialog.locator('.notice.refused').textContent(), { timeout: 15_000 })
        .toContain('This chat is not available on this website.');
      expect(await page.getByRole('textbox', { name: 'Your question' }).isDisabled()).toBe(true);
      await page.screenshot({ path: join(SCREENS, 'widget-refused.png') });
    });

    it("when the tenant opens the bot in the playground then it gets a snippet to copy and a live preview on the playground's own origin", async () => {
      await page.goto(`${server.url}/`);
      await page.getByLabel('API token').fill(tenantToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('tab', { name: 'Bots' }).click();
      await page.getByRole('button', { name: /Kelpie Ferries assistant/ }).click();
      const origins = page.getByLabel(/Allowed origins/);
      await expect.poll(() => origins.inputValue()).toBe(server.url);
      await page.getByRole('button', { name: 'Create publishable key' }).click();
      const snippet = page.getByLabel(/Paste this before/);
      await expect
        .poll(() => snippet.inputValue())
        .toMatch(/^<script src=".*\/widget\.js" data-key="mrag_pk_\w{43}"/);
      await page.getByRole('button', { name: 'Live preview on this page' }).click();
      const dialog = page.getByRole('dialog', { name: 'Kelpie Ferries assistant' });
      await expect.poll(() => dialog.isVisible(), { timeout: 15_000 }).toBe(true);
      await page.screenshot({ path: join(SCREENS, 'playground-embed.png') });
    });
  },
);
