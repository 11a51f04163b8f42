import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WIDGET_CACHE_CONTROL } from '#functions/api/routes/widget.ts';
import { WIDGET_SCRIPT } from '#functions/api/widget-script.generated.ts';
import { buildWidget, GENERATED_MODULE, generatedModule } from '#web/widget/build.ts';

describe('the widget script', () => {
  it('when the widget is built from web/widget then the committed module is that build (run npm run build:widget)', async () => {
    const built = await buildWidget();
    expect(await readFile(GENERATED_MODULE, 'utf8')).toBe(generatedModule(built));
  });

  it('when it is gzipped then it is at most 30 KB', () => {
    const gzipped = gzipSync(WIDGET_SCRIPT, { level: 9 }).length;
    expect(gzipped).toBeLessThanOrEqual(30 * 1024);
  });

  it('when it is read then it names no other host: it talks only to the API it is given', () => {
    expect(WIDGET_SCRIPT).not.toMatch(/https?:\/\/(?!\s)/);
    expect(WIDGET_SCRIPT).not.toMatch(/\bimport\(|importScripts|<link|@import|fonts\.googleapis|eval\(/);
  });

  it('when its cache policy is read then it is cached for a day and revalidated in the background', () => {
    expect(WIDGET_CACHE_CONTROL).toMatch(/max-age=86400/);
    expect(WIDGET_CACHE_CONTROL).toMatch(/stale-while-revalidate/);
  });
});
