import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createLocalKeyVault,
  createLocalKeyVaultFromBase64,
  masterKeyFromBase64,
  masterKeyId,
} from '#shared/adapters/local-keyring/local-key-vault.ts';
import { canonicalContext, gcmOpen, gcmSeal, isEnvelope, parseEnvelope } from '#shared/crypto/envelope.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { EncryptionContext } from '#shared/ports/key-vault.ts';

const ctx: EncryptionContext = { tenantId: 'tenant-a', botProfileId: 'bot-1', purpose: 'bot-credentials' };
const secret = 'sk-proj-local-secret';
const newMaster = () => {
  const key = randomBytes(32);
  return { id: masterKeyId(key), key };
};

describe('local keyring vault', () => {
  it('when a master key is named then the id is a stable 8-hex fingerprint that does not reveal the key', () => {
    const key = randomBytes(32);
    expect(masterKeyId(key)).toMatch(/^local:[0-9a-f]{8}$/);
    expect(masterKeyId(Buffer.from(key))).toBe(masterKeyId(key));
    expect(key.toString('hex')).not.toContain(masterKeyId(key).slice(6));
  });

  it('when rewrapped under a new master key then a vault holding only the new key decrypts it', async () => {
    const oldKey = newMaster();
    const nextKey = newMaster();
    const env = await createLocalKeyVault({ masterKeys: [oldKey], currentKeyId: oldKey.id }).encrypt(
      secret,
      ctx,
    );

    const during = createLocalKeyVault({ masterKeys: [oldKey, nextKey], currentKeyId: nextKey.id });
    const rewrapped = await during.rewrap(env, ctx);
    expect(rewrapped.keyId).toBe(nextKey.id);

    const after = createLocalKeyVault({ masterKeys: [nextKey], currentKeyId: nextKey.id });
    await expect(after.decrypt(rewrapped, ctx)).resolves.toBe(secret);
    await expect(after.decrypt(env, ctx)).rejects.toThrow(/master key this server does not have/);
  });

  it('when decrypted with a different master key under the same id then it fails closed', async () => {
    const real = newMaster();
    const env = await createLocalKeyVault({ masterKeys: [real], currentKeyId: real.id }).encrypt(secret, ctx);
    const impostor = createLocalKeyVault({
      masterKeys: [{ id: real.id, key: randomBytes(32) }],
      currentKeyId: real.id,
    });
    await expect(impostor.decrypt(env, ctx)).rejects.toBeInstanceOf(ProviderError);
  });

  it('when the caller zeroes its master key buffer afterwards then the vault still works', async () => {
    const master = newMaster();
    const vault = createLocalKeyVault({ masterKeys: [master], currentKeyId: master.id });
    master.key.fill(0);
    await expect(vault.decrypt(await vault.encrypt(secret, ctx), ctx)).resolves.toBe(secret);
  });

  it('when the current key id is not in the keyring or a key is not 32 bytes then creation fails', () => {
    const master = newMaster();
    expect(() => createLocalKeyVault({ masterKeys: [master], currentKeyId: 'local:ffffffff' })).toThrow(
      /not in the keyring/,
    );
    expect(() =>
      createLocalKeyVault({ masterKeys: [{ id: 'x', key: randomBytes(16) }], currentKeyId: 'x' }),
    ).toThrow(/32 bytes/);
    expect(() => masterKeyFromBase64('c2hvcnQ=')).toThrow(/32 bytes/);
  });

  it("when the keyring is misconfigured then the error is the server's (500), not a provider's (502)", () => {
    const statusOf = (create: () => unknown) => {
      try {
        create();
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderError);
        return (error as ProviderError).status;
      }
      throw new Error('expected the vault creation to fail');
    };
    const master = newMaster();
    expect(
      statusOf(() => createLocalKeyVault({ masterKeys: [master], currentKeyId: 'local:ffffffff' })),
    ).toBe(500);
    expect(
      statusOf(() =>
        createLocalKeyVault({ masterKeys: [{ id: 'x', key: randomBytes(16) }], currentKeyId: 'x' }),
      ),
    ).toBe(500);
    expect(statusOf(() => masterKeyFromBase64('c2hvcnQ='))).toBe(500);
  });

  it('when built from base64 keys then the current key writes and previous keys still read', async () => {
    const previous = randomBytes(32).toString('base64');
    const current = randomBytes(32).toString('base64');
    const env = await createLocalKeyVaultFromBase64({ current: previous }).encrypt(secret, ctx);
    const vault = createLocalKeyVaultFromBase64({ current, previous: [previous, current] });
    expect(vault.currentKeyId).toBe(masterKeyFromBase64(current).id);
    await expect(vault.decrypt(env, ctx)).resolves.toBe(secret);
  });
});

describe('envelope format (port)', () => {
  it('when contexts list their keys in any order then the canonical form is the same, sorted', () => {
    const shuffled = { purpose: 'bot-credentials', botProfileId: 'bot-1', tenantId: 'tenant-a' } as const;
    expect(canonicalContext(shuffled)).toBe(canonicalContext(ctx));
    expect(canonicalContext(ctx)).toBe(
      '{"botProfileId":"bot-1","purpose":"bot-credentials","tenantId":"tenant-a"}',
    );
  });

  it('when a context has extra keys then they do not change the binding', () => {
    expect(canonicalContext({ ...ctx, extra: 'x' } as EncryptionContext)).toBe(canonicalContext(ctx));
  });

  it('when a context has an empty tenant or bot id then it is refused', () => {
    expect(() => canonicalContext({ ...ctx, tenantId: '' })).toThrow(ProviderError);
    expect(() => canonicalContext({ ...ctx, botProfileId: '' })).toThrow(ProviderError);
  });

  it('when a stored value is not an envelope then parsing fails without echoing it', () => {
    expect(isEnvelope({ v: 2 })).toBe(false);
    expect(() => parseEnvelope({ v: 1, keyId: 'k', encryptedDataKey: 'sk-secret!' })).toThrow(
      "The bot's stored credentials are unreadable; set them again",
    );
  });

  it('when a GCM tag is truncated then opening refuses it even though Node would accept short tags', () => {
    const key = randomBytes(32);
    const box = gcmSeal(key, Buffer.from('hello'), Buffer.from('aad'));
    expect(gcmOpen(key, box, Buffer.from('aad')).toString()).toBe('hello');
    expect(() => gcmOpen(key, { ...box, tag: box.tag.subarray(0, 12) }, Buffer.from('aad'))).toThrow(
      ProviderError,
    );
    expect(() => gcmOpen(key, box, Buffer.from('other'))).toThrow(ProviderError);
  });
});
