import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createLocalKeyVault,
  type MasterKey,
  masterKeyId,
} from '#shared/adapters/local-keyring/local-key-vault.ts';
import type { CredentialCursor, CredentialStore, StoredCredentials } from '#shared/ports/credential-store.ts';
import type { Envelope, KeyVault } from '#shared/ports/key-vault.ts';
import { rotateCredentials } from '#shared/usecases/rotate-credentials.ts';

const master = (): MasterKey => {
  const key = randomBytes(32);
  return { id: masterKeyId(key), key };
};
const ctxOf = (r: { tenantId: string; id: string }) =>
  ({ tenantId: r.tenantId, botProfileId: r.id, purpose: 'bot-credentials' }) as const;
const secretOf = (tenantId: string, id: string) => `sk-${tenantId}-${id}`;

/** An in-memory store ordered by (tenantId, id), with compare-and-swap on the JSON of the envelope. */
class MemoryStore implements CredentialStore {
  readonly rows = new Map<string, StoredCredentials>();
  updates = 0;
  /** Throws (simulating a crash) on the update with this index, once. */
  crashOnUpdate: number | undefined;

  put(row: StoredCredentials) {
    this.rows.set(`${row.tenantId}/${row.id}`, row);
  }

  async listAfter(cursor: CredentialCursor | null, limit: number) {
    const after = cursor ? `${cursor.tenantId}/${cursor.id}` : '';
    return [...this.rows.keys()]
      .sort()
      .filter((k) => k > after)
      .slice(0, limit)
      .map((k) => structuredClone(this.rows.get(k)!));
  }

  async update(tenantId: string, id: string, old: Envelope, next: Envelope) {
    if (this.crashOnUpdate === this.updates) {
      this.crashOnUpdate = undefined;
      throw new Error('connection lost');
    }
    const key = `${tenantId}/${id}`;
    if (JSON.stringify(this.rows.get(key)?.credentials) !== JSON.stringify(old)) return false;
    this.updates++;
    this.rows.set(key, { tenantId, id, credentials: next });
    return true;
  }
}

let oldKey: MasterKey;
let newKey: MasterKey;
let store: MemoryStore;
let rotated: KeyVault;

beforeEach(async () => {
  oldKey = master();
  newKey = master();
  const before = createLocalKeyVault({ masterKeys: [oldKey], currentKeyId: oldKey.id });
  store = new MemoryStore();
  for (const tenantId of ['t1', 't2', 't3']) {
    for (const id of ['a', 'b', 'c', 'd']) {
      store.put({
        tenantId,
        id,
        credentials: await before.encrypt(secretOf(tenantId, id), ctxOf({ tenantId, id })),
      });
    }
  }
  rotated = createLocalKeyVault({ masterKeys: [newKey, oldKey], currentKeyId: newKey.id });
});

async function expectAllReadableWithOnlyTheNewKey() {
  const onlyNew = createLocalKeyVault({ masterKeys: [newKey], currentKeyId: newKey.id });
  for (const row of store.rows.values()) {
    expect(row.credentials.keyId).toBe(newKey.id);
    await expect(onlyNew.decrypt(row.credentials, ctxOf(row))).resolves.toBe(secretOf(row.tenantId, row.id));
  }
}

describe('rotateCredentials', () => {
  it('when run then every record moves to the current key, batch by batch', async () => {
    const cursors: CredentialCursor[] = [];
    const result = await rotateCredentials(rotated, store, { batchSize: 5, onBatch: (c) => cursors.push(c) });
    expect(result).toEqual({
      scanned: 12,
      rewrapped: 12,
      alreadyCurrent: 0,
      changedMeanwhile: 0,
      failed: 0,
      failures: [],
    });
    expect(cursors).toEqual([
      { tenantId: 't2', id: 'a' },
      { tenantId: 't3', id: 'b' },
      { tenantId: 't3', id: 'd' },
    ]);
    await expectAllReadableWithOnlyTheNewKey();
  });

  it('when run a second time then nothing changes', async () => {
    await rotateCredentials(rotated, store, { batchSize: 4 });
    const snapshot = JSON.stringify([...store.rows.values()]);
    const updates = store.updates;
    const again = await rotateCredentials(rotated, store, { batchSize: 4 });
    expect(again).toMatchObject({ scanned: 12, rewrapped: 0, alreadyCurrent: 12, failed: 0 });
    expect(store.updates).toBe(updates);
    expect(JSON.stringify([...store.rows.values()])).toBe(snapshot);
  });

  it('when the store fails half-way then running again finishes the job', async () => {
    store.crashOnUpdate = 5;
    await expect(rotateCredentials(rotated, store, { batchSize: 3 })).rejects.toThrow('connection lost');
    expect(store.updates).toBe(5);

    const resumed = await rotateCredentials(rotated, store, { batchSize: 3 });
    expect(resumed).toMatchObject({ scanned: 12, rewrapped: 7, alreadyCurrent: 5, failed: 0 });
    await expectAllReadableWithOnlyTheNewKey();
  });

  it('when resumed from a cursor then only the records after it are visited', async () => {
    const result = await rotateCredentials(rotated, store, { startAfter: { tenantId: 't2', id: 'd' } });
    expect(result).toMatchObject({ scanned: 4, rewrapped: 4 });
  });

  it('when one record cannot be rewrapped then it is reported and the others still move', async () => {
    const row = store.rows.get('t2/b')!;
    store.put({
      ...row,
      credentials: { ...row.credentials, encryptedDataKey: randomBytes(60).toString('base64') },
    });
    const result = await rotateCredentials(rotated, store, { batchSize: 5 });
    expect(result).toMatchObject({ scanned: 12, rewrapped: 11, failed: 1 });
    expect(result.failures).toEqual([
      { tenantId: 't2', id: 'b', reason: expect.stringMatching(/could not be decrypted/) },
    ]);
    expect(store.rows.get('t2/b')!.credentials.keyId).toBe(oldKey.id);
  });

  it('when a record changes between read and write then the compare-and-swap keeps the newer value', async () => {
    const racing: CredentialStore = {
      listAfter: (c, l) => store.listAfter(c, l),
      update: async (tenantId, id, old, next) => {
        if (id === 'c' && tenantId === 't1') {
          store.put({ tenantId, id, credentials: await rotated.encrypt('sk-new', ctxOf({ tenantId, id })) });
        }
        return store.update(tenantId, id, old, next);
      },
    };
    const result = await rotateCredentials(rotated, racing, { batchSize: 100 });
    expect(result).toMatchObject({ scanned: 12, rewrapped: 11, changedMeanwhile: 1 });
    await expect(
      rotated.decrypt(store.rows.get('t1/c')!.credentials, ctxOf({ tenantId: 't1', id: 'c' })),
    ).resolves.toBe('sk-new');
  });

  it('when the batch size is not a positive integer then it refuses to start', async () => {
    await expect(rotateCredentials(rotated, store, { batchSize: 0 })).rejects.toThrow(RangeError);
  });
});
