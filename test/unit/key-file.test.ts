import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  addMasterKey,
  loadOrCreateLocalSecrets,
  newAdminToken,
  retirePreviousMasterKeys,
} from '#shared/config/key-file.ts';

let root: string;
let dataDir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'minirag-keyfile-'));
  dataDir = join(root, 'nested', '.minirag');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The error a promise rejects with (the test fails if it resolves). */
const rejection = <E>(promise: Promise<unknown>): Promise<E> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as E,
  );

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('local key file', () => {
  it('when started the first time then it creates secrets.json 0600 in a 0700 directory with fresh values', async () => {
    const secrets = await loadOrCreateLocalSecrets(dataDir);
    expect(await mode(dataDir)).toBe(0o700);
    expect(await mode(join(dataDir, 'secrets.json'))).toBe(0o600);
    expect(secrets.adminToken).toMatch(/^mrag_admin_[0-9A-Za-z]{43}$/);
    expect(Buffer.from(secrets.jwtSigningKey, 'base64url')).toHaveLength(32);
    expect(Buffer.from(secrets.masterKey, 'base64')).toHaveLength(32);
    expect(secrets.previousMasterKeys).toEqual([]);
    expect(await readdir(dataDir)).toEqual(['secrets.json']);
  });

  it('when loaded a second time then the same values come back', async () => {
    const first = await loadOrCreateLocalSecrets(dataDir);
    await expect(loadOrCreateLocalSecrets(dataDir)).resolves.toEqual(first);
  });

  it('when several starters race on an empty directory then they all get the one file that was written', async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateLocalSecrets(dataDir)));
    const onDisk = await loadOrCreateLocalSecrets(dataDir);
    for (const secrets of all) expect(secrets).toEqual(onDisk);
    expect(await readdir(dataDir)).toEqual(['secrets.json']);
  });

  it('when the file came back world-readable then it is tightened to 0600', async () => {
    await loadOrCreateLocalSecrets(dataDir);
    const path = join(dataDir, 'secrets.json');
    await chmod(path, 0o644);
    await loadOrCreateLocalSecrets(dataDir);
    expect(await mode(path)).toBe(0o600);
  });

  it('when the file is damaged then it is neither regenerated nor echoed in the error', async () => {
    await loadOrCreateLocalSecrets(dataDir);
    const path = join(dataDir, 'secrets.json');
    await writeFile(path, '{"version":1,"adminToken":"mrag_admin_leakme"', { mode: 0o600 });
    const error = await rejection<Error>(loadOrCreateLocalSecrets(dataDir));
    expect(error.message).toMatch(/is damaged .* restore it from a backup/);
    expect(error.message).not.toContain('leakme');
    expect(await readFile(path, 'utf8')).toContain('leakme');
  });

  it('when a master key is added then the old one is kept as previous until retired', async () => {
    const first = await loadOrCreateLocalSecrets(dataDir);
    const rotated = await addMasterKey(dataDir);
    expect(rotated.masterKey).not.toBe(first.masterKey);
    expect(rotated.previousMasterKeys).toEqual([first.masterKey]);
    expect(rotated).toMatchObject({ adminToken: first.adminToken, jwtSigningKey: first.jwtSigningKey });
    await expect(loadOrCreateLocalSecrets(dataDir)).resolves.toEqual(rotated);
    expect(await mode(join(dataDir, 'secrets.json'))).toBe(0o600);

    const retired = await retirePreviousMasterKeys(dataDir);
    expect(retired).toEqual({ ...rotated, previousMasterKeys: [] });
    expect(await readdir(dataDir)).toEqual(['secrets.json']);
  });

  it('when admin tokens are made then each is new and of fixed length', () => {
    const tokens = new Set(Array.from({ length: 50 }, newAdminToken));
    expect(tokens.size).toBe(50);
    for (const t of tokens) expect(t).toHaveLength('mrag_admin_'.length + 43);
  });
});
