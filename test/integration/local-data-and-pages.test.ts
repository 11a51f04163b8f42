import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { secureDataDir } from '#shared/config/key-file.ts';
import { PLAYGROUND_SECURITY_HEADERS } from '#shared/http/security-headers.ts';

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

describe('the local data directory holds tenant data, so only its user may read it', () => {
  it('when the directory exists with looser bits then it is narrowed to 0700 and the old mode is reported', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'minirag-datadir-'));
    made.push(dir);
    await chmod(dir, 0o755);
    expect(await secureDataDir(dir)).toEqual({ narrowedFrom: 0o755 });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await secureDataDir(dir)).toEqual({});
  });

  it('when the directory does not exist then it is created 0700', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'minirag-datadir-'));
    made.push(parent);
    const dir = join(parent, 'fresh');
    expect(await secureDataDir(dir)).toEqual({});
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });
});

describe('the playground pages', () => {
  it('when served then only this origin may run scripts or frame them', () => {
    const csp = PLAYGROUND_SECURITY_HEADERS['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(PLAYGROUND_SECURITY_HEADERS).toMatchObject({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  });
});
