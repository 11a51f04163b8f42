import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFsBlobStore, type FsBlobStore, UPLOAD_PATH } from '#shared/adapters/filesystem/blob-store.ts';
import { originalBlobKey, sourceBlobPrefix } from '#shared/domain/blob-key.ts';
import { asTenantId } from '#shared/domain/ids.ts';

const A = asTenantId('11111111-1111-4111-8111-111111111111');
const B = asTenantId('33333333-3333-4333-8333-333333333333');
const SOURCE = '22222222-2222-4222-8222-222222222222';
const KEY = originalBlobKey(A, SOURCE, 1);
const KEY_B = originalBlobKey(B, SOURCE, 1);

let dir: string;
let clock: number;
let store: FsBlobStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'blobs-'));
  clock = Date.now();
  store = createFsBlobStore({ dir, signingKey: 'k'.repeat(40), now: () => clock });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const tokenOf = (url: string) => url.slice(UPLOAD_PATH.length);
const text = async (r: Readable) => {
  const parts: Buffer[] = [];
  for await (const p of r) parts.push(p as Buffer);
  return Buffer.concat(parts).toString();
};
const body = (s: string | Buffer) => Readable.from([Buffer.from(s)]);
const leftovers = async () => (await readdir(join(dir, '.tmp')).catch(() => [])).length;

async function presign(sizeBytes: number, contentType = 'text/plain') {
  const upload = await store.presignUpload(KEY, { contentType, sizeBytes, expiresInSeconds: 900 });
  return tokenOf(upload.url);
}

describe('filesystem blob store', () => {
  it('when the declared bytes arrive then the object is stored under the key, readable and sized', async () => {
    const token = await presign(5);
    await store.receiveUpload(token, { body: body('hello'), contentType: 'text/plain', contentLength: '5' });
    expect(await store.head(KEY)).toEqual({ sizeBytes: 5, contentType: undefined });
    expect(await text((await store.get(KEY))!)).toBe('hello');
    expect(await readFile(join(dir, KEY), 'utf8')).toBe('hello');
  });

  it('when more bytes than declared are streamed (no Content-Length) then it is refused with 413 and nothing is left', async () => {
    const token = await presign(5);
    const chunked = Readable.from([Buffer.from('hel'), Buffer.from('lo, world')]);
    await expect(
      store.receiveUpload(token, { body: chunked, contentType: 'text/plain', contentLength: undefined }),
    ).rejects.toMatchObject({ status: 413 });
    expect(await store.head(KEY)).toBeUndefined();
    expect(await leftovers()).toBe(0);
  });

  it('when fewer bytes than declared arrive then it is refused with 400 and nothing is left', async () => {
    const token = await presign(10);
    await expect(
      store.receiveUpload(token, {
        body: body('short'),
        contentType: 'text/plain',
        contentLength: undefined,
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(await store.head(KEY)).toBeUndefined();
    expect(await leftovers()).toBe(0);
  });

  it('when Content-Length disagrees with the declared size then it is refused before any byte is read', async () => {
    const token = await presign(5);
    let read = false;
    const watched = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    await expect(
      store.receiveUpload(token, { body: watched, contentType: 'text/plain', contentLength: '6' }),
    ).rejects.toMatchObject({ status: 413 });
    await expect(
      store.receiveUpload(token, { body: watched, contentType: 'text/plain', contentLength: '4' }),
    ).rejects.toMatchObject({ status: 400 });
    expect(read).toBe(false);
  });

  it('when the content type differs from the declared one then it is refused with 415', async () => {
    const token = await presign(5, 'application/pdf');
    await expect(
      store.receiveUpload(token, { body: body('hello'), contentType: 'text/html', contentLength: '5' }),
    ).rejects.toMatchObject({ status: 415 });
    expect(await store.head(KEY)).toBeUndefined();
  });

  it('when the URL has expired then the upload is refused with 403', async () => {
    const token = await presign(5);
    clock += 901_000;
    await expect(
      store.receiveUpload(token, { body: body('hello'), contentType: 'text/plain', contentLength: '5' }),
    ).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/expired/) });
    expect(await store.head(KEY)).toBeUndefined();
  });

  it("when the token is altered to name another tenant's key then its signature fails and nothing is written", async () => {
    const token = await presign(5);
    const [payload, signature] = token.split('.');
    const grant = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...grant, key: KEY_B })).toString('base64url');
    await expect(
      store.receiveUpload(`${forged}.${signature}`, {
        body: body('hello'),
        contentType: 'text/plain',
        contentLength: '5',
      }),
    ).rejects.toMatchObject({ status: 403 });
    expect(await store.head(KEY_B)).toBeUndefined();
    // A token signed by another installation's key is refused too.
    const other = createFsBlobStore({ dir, signingKey: 'z'.repeat(40), now: () => clock });
    await expect(
      other.receiveUpload(token, { body: body('hello'), contentType: 'text/plain', contentLength: '5' }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('when a source prefix is deleted then its versions go and other sources and tenants stay', async () => {
    await store.put(KEY, new TextEncoder().encode('a1'), 'text/plain');
    await store.put(originalBlobKey(A, SOURCE, 2), new TextEncoder().encode('a2'), 'text/plain');
    const other = originalBlobKey(A, '44444444-4444-4444-8444-444444444444', 1);
    await store.put(other, new TextEncoder().encode('x'), 'text/plain');
    await store.put(KEY_B, new TextEncoder().encode('b'), 'text/plain');
    await store.deletePrefix(sourceBlobPrefix(A, SOURCE));
    expect(await store.head(KEY)).toBeUndefined();
    expect(await store.head(originalBlobKey(A, SOURCE, 2))).toBeUndefined();
    expect(await store.head(other)).toBeDefined();
    expect(await store.head(KEY_B)).toBeDefined();
    await expect(store.deletePrefix('tenants/../')).rejects.toThrow('Not a blob prefix');
  });

  it('when a key is not an original key then the store refuses it (no path escapes the blobs directory)', async () => {
    await expect(store.put('../../etc/passwd', new Uint8Array(1), 'text/plain')).rejects.toThrow(
      'Not a blob key',
    );
    await expect(store.head(`tenants/${A}/sources/${SOURCE}/v1/../../x`)).rejects.toThrow('Not a blob key');
  });

  it('when temporary files are older than the limit then the sweep removes them', async () => {
    await mkdir(join(dir, '.tmp'), { recursive: true });
    await writeFile(join(dir, '.tmp', 'old.part'), 'x');
    await writeFile(join(dir, '.tmp', 'new.part'), 'x');
    const old = new Date(clock - 2 * 3600_000);
    await utimes(join(dir, '.tmp', 'old.part'), old, old);
    expect(await store.sweepTemporary(3600_000)).toBe(1);
    expect(existsSync(join(dir, '.tmp', 'new.part'))).toBe(true);
  });
});
