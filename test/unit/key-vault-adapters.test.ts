import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createKmsKeyVault } from '#shared/adapters/kms/kms-key-vault.ts';
import { createLocalKeyVault, masterKeyId } from '#shared/adapters/local-keyring/local-key-vault.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { EncryptionContext, Envelope, KeyVault } from '#shared/ports/key-vault.ts';

/**
 * The same behaviour is required of both adapters. KMS is replaced by a small fake that really
 * encrypts (its "ciphertext blob" is the data key sealed under a per-key secret with the encryption
 * context as AAD), so tampering and wrong-context cases exercise real cryptography, not canned replies.
 */
const kms = mockClient(KMSClient);
const kmsKeys = new Map([
  ['arn:aws:kms:eu-west-1:111122223333:key/old', randomBytes(32)],
  ['arn:aws:kms:eu-west-1:111122223333:key/new', randomBytes(32)],
]);

function fakeWrap(
  keyId: string,
  dataKey: Uint8Array,
  context: Record<string, string> | undefined,
): Uint8Array {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kmsKeys.get(keyId)!, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort())));
  const body = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([Buffer.from(keyId.padEnd(64)), iv, cipher.getAuthTag(), body]);
}

function fakeUnwrap(blob: Uint8Array, context: Record<string, string> | undefined) {
  const b = Buffer.from(blob);
  const keyId = b.subarray(0, 64).toString().trim();
  try {
    const decipher = createDecipheriv('aes-256-gcm', kmsKeys.get(keyId)!, b.subarray(64, 76));
    decipher.setAAD(Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort())));
    decipher.setAuthTag(b.subarray(76, 92));
    return { keyId, dataKey: Buffer.concat([decipher.update(b.subarray(92)), decipher.final()]) };
  } catch {
    throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: {} });
  }
}

function installFakeKms() {
  kms.reset();
  kms.on(GenerateDataKeyCommand).callsFake((input) => {
    const dataKey = randomBytes(32);
    return {
      KeyId: input.KeyId,
      Plaintext: dataKey,
      CiphertextBlob: fakeWrap(input.KeyId, dataKey, input.EncryptionContext),
    };
  });
  kms.on(DecryptCommand).callsFake((input) => {
    const { keyId, dataKey } = fakeUnwrap(input.CiphertextBlob, input.EncryptionContext);
    return { KeyId: keyId, Plaintext: dataKey };
  });
  kms.on(ReEncryptCommand).callsFake((input) => {
    const { dataKey } = fakeUnwrap(input.CiphertextBlob, input.SourceEncryptionContext);
    const blob = fakeWrap(input.DestinationKeyId, dataKey, input.DestinationEncryptionContext);
    return { KeyId: input.DestinationKeyId, CiphertextBlob: blob };
  });
}

const localOld = { id: '', key: randomBytes(32) };
localOld.id = masterKeyId(localOld.key);
const localNew = { id: '', key: randomBytes(32) };
localNew.id = masterKeyId(localNew.key);

interface Adapter {
  /** A vault writing under the "old" key. */
  old(): KeyVault;
  /** A vault writing under the "new" key that can still read the old one. */
  rotated(): KeyVault;
}

const adapters: Record<string, Adapter> = {
  kms: {
    old: () => createKmsKeyVault({ keyId: 'arn:aws:kms:eu-west-1:111122223333:key/old', cacheTtlMs: 0 }),
    rotated: () => createKmsKeyVault({ keyId: 'arn:aws:kms:eu-west-1:111122223333:key/new', cacheTtlMs: 0 }),
  },
  local: {
    old: () => createLocalKeyVault({ masterKeys: [localOld], currentKeyId: localOld.id }),
    rotated: () => createLocalKeyVault({ masterKeys: [localNew, localOld], currentKeyId: localNew.id }),
  },
};

const ctx: EncryptionContext = { tenantId: 'tenant-a', botProfileId: 'bot-1', purpose: 'bot-credentials' };
const secret = 'sk-live-0123456789abcdef';

/** Flips one bit of the first (or, with `last`, the final) byte. */
const flip = (b64: string, last = false) => {
  const bytes = Buffer.from(b64, 'base64');
  const index = last ? bytes.length - 1 : 0;
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64');
};

afterAll(() => kms.restore());

describe.each(Object.entries(adapters))('KeyVault (%s adapter)', (_name, adapter) => {
  let vault: KeyVault;
  let env: Envelope;
  beforeEach(async () => {
    installFakeKms();
    vault = adapter.old();
    env = await vault.encrypt(secret, ctx);
  });

  it('when a credential is encrypted then it decrypts back and the envelope survives JSON', async () => {
    expect(env).toMatchObject({ v: 1, keyId: vault.currentKeyId });
    expect(JSON.stringify(env)).not.toContain(secret);
    const stored = JSON.parse(JSON.stringify(env)) as Envelope;
    await expect(vault.decrypt(stored, { ...ctx })).resolves.toBe(secret);
  });

  it('when the same value is encrypted twice then IV, data key and ciphertext all differ', async () => {
    const again = await vault.encrypt(secret, ctx);
    expect(again.iv).not.toBe(env.iv);
    expect(again.encryptedDataKey).not.toBe(env.encryptedDataKey);
    expect(again.ciphertext).not.toBe(env.ciphertext);
    expect(Buffer.from(env.iv, 'base64')).toHaveLength(12);
  });

  it.each([
    ['ciphertext', (e: Envelope) => ({ ...e, ciphertext: flip(e.ciphertext) })],
    ['tag', (e: Envelope) => ({ ...e, tag: flip(e.tag) })],
    [
      'truncated tag',
      (e: Envelope) => ({ ...e, tag: Buffer.from(e.tag, 'base64').subarray(0, 4).toString('base64') }),
    ],
    ['iv', (e: Envelope) => ({ ...e, iv: flip(e.iv) })],
    ['encrypted data key', (e: Envelope) => ({ ...e, encryptedDataKey: flip(e.encryptedDataKey, true) })],
  ])('when the %s is tampered with then decrypt throws a ProviderError', async (_what, tamper) => {
    const error = await vault.decrypt(tamper(env), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(String((error as Error).message)).not.toContain(secret);
  });

  it.each([
    ['another tenant', { ...ctx, tenantId: 'tenant-b' }],
    ['another bot', { ...ctx, botProfileId: 'bot-2' }],
    ['another purpose', { ...ctx, purpose: 'other' as 'bot-credentials' }],
  ])('when decrypted for %s then it fails closed', async (_what, other) => {
    await expect(vault.decrypt(env, other)).rejects.toBeInstanceOf(ProviderError);
  });

  it('when a ciphertext is moved into another bot’s envelope then the payload check refuses it', async () => {
    const otherCtx = { ...ctx, botProfileId: 'bot-2' };
    const other = await vault.encrypt('sk-other', otherCtx);
    const spliced = { ...other, iv: env.iv, tag: env.tag, ciphertext: env.ciphertext };
    await expect(vault.decrypt(spliced, otherCtx)).rejects.toBeInstanceOf(ProviderError);
  });

  it('when rewrapped under the current key then the same object comes back', async () => {
    await expect(vault.rewrap(env, ctx)).resolves.toBe(env);
  });

  it('when rotated to a new key then the payload is kept, the new key reads it and a second rewrap is a no-op', async () => {
    const rotated = adapter.rotated();
    const next = await rotated.rewrap(env, ctx);
    expect(next.keyId).toBe(rotated.currentKeyId);
    expect(next).toMatchObject({ iv: env.iv, tag: env.tag, ciphertext: env.ciphertext });
    await expect(rotated.decrypt(next, ctx)).resolves.toBe(secret);
    await expect(rotated.rewrap(next, ctx)).resolves.toBe(next);
  });

  it('when rewrapped with the wrong context then it fails closed', async () => {
    await expect(adapter.rotated().rewrap(env, { ...ctx, tenantId: 'tenant-b' })).rejects.toBeInstanceOf(
      ProviderError,
    );
  });
});
