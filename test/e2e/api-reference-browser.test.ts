import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, removeDir, type ServerProcess, startServer, tempDir } from './server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

describe.skipIf(!hasChromium)(
  hasChromium
    ? 'the API reference (/docs) in headless Chromium with no network but the local server'
    : `the API reference in headless Chromium — SKIPPED: ${CHROMIUM} is not installed`,
  { timeout: 120_000 },
  () => {
    let server: ServerProcess;
    let dataDir: string;
    let browser: Browser;

    beforeAll(async () => {
      dataDir = await tempDir('minirag-docs-data-');
      server = await startServer({ dataDir, timeoutMs: 90_000 });
      browser = await chromium.launch({
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
      });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop('SIGKILL');
      await removeDir(dataDir);
    });

    it('when /docs is opened offline then the operations render and nothing is requested from another host', async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      // Offline: every request to another host fails, and is recorded.
      const external: string[] = [];
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'data:' || url.protocol === 'blob:' || LOCAL_HOSTS.has(url.hostname)) {
          return route.continue();
        }
        external.push(url.href);
        return route.abort('internetdisconnected');
      });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      // The page's CSP stops a load from another host before it reaches the network (and the route above):
      // record those attempts as well.
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { cspViolations: string[] }).cspViolations = seen;
        document.addEventListener('securitypolicyviolation', (e) =>
          seen.push(
            `${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
          ),
        );
      });

      const response = await page.goto(`${server.url}/docs`);
      expect(response?.status()).toBe(200);

      // The sidebar and the operations come from /openapi.json, rendered by the same-origin script.
      await page.getByText("List the tenant's sources").first().waitFor({ timeout: 30_000 });
      await expect.poll(() => page.locator('body').textContent()).toContain('/v1/sources');
      expect(await page.title()).toBe('MiniRAG API reference');

      // Open one operation, so lazily loaded parts (code samples, schemas) load too.
      await page.getByText("List the tenant's sources").first().click();
      await page.waitForTimeout(1_500);

      await mkdir(join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'test-results/api-reference-offline.png') });

      // Its built-in client sends a request to this origin directly (no proxy host in between).
      const sent = page.waitForRequest((r) => new URL(r.url()).pathname.startsWith('/v1/'));
      await page.getByRole('button', { name: 'Test Request' }).first().click();
      await page.getByRole('button', { name: /^Send/ }).first().click();
      expect(new URL((await sent).url()).host).toBe(new URL(server.url).host);
      await page.waitForTimeout(1_000);
      await page.screenshot({ path: join(ROOT, 'test-results/api-reference-offline-client.png') });

      const violations = await page.evaluate(
        () => (window as unknown as { cspViolations: string[] }).cspViolations,
      );
      expect(external, 'requests to other hosts').toEqual([]);
      // Zod (inside Scalar) probes `new Function('')` to pick its faster validators; the policy refusing eval
      // is intended, and Zod falls back. Anything else refused (a host, an inline script or style) is a failure.
      expect(
        violations.filter((v) => !v.startsWith('script-src eval ')),
        'loads the page policy refused',
      ).toEqual([]);
      expect(pageErrors).toEqual([]);
      await context.close();
    });
  },
);
