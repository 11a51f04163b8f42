import { randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  DisabledException,
  GenerateDataKeyCommand,
  KMSClient,
  KMSServiceException,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createDataKeyCache } from '#shared/adapters/kms/data-key-cache.ts';
import { createKmsKeyVault } from '#shared/adapters/kms/kms-key-vault.ts';
import { ProviderError } from '#shared/domain/errors.ts';
import type { EncryptionContext } from '#shared/ports/key-vault.ts';

const kms = mockClient(KMSClient);
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ctx: EncryptionContext = { tenantId: 'tenant-a', botProfileId: 'bot-1', purpose: 'bot-credentials' };
const secret = 'sk-ant-secret-value-42';
const blob = Buffer.from('kms-ciphertext-blob');

/** The data key KMS "generates"; every reply hands out a fresh copy we keep a reference to. */
let dataKey: Buffer;
let handedOut: Buffer[];
const fresh = () => {
  const copy = Buffer.from(dataKey);
  handedOut.push(copy);
  return copy;
};

beforeEach(() => {
  kms.reset();
  dataKey = randomBytes(32);
  handedOut = [];
  kms
    .on(GenerateDataKeyCommand)
    .callsFake(() => ({ KeyId: KEY_ARN, Plaintext: fresh(), CiphertextBlob: blob }));
  kms.on(DecryptCommand).callsFake(() => ({ KeyId: KEY_ARN, Plaintext: fresh() }));
});
afterAll(() => kms.restore());

const isZero = (b: Uint8Array) => b.every((x) => x === 0);
const awsError = (name: string) =>
  new KMSServiceException({ name, $fault: 'client', message: `${name}: nope`, $metadata: {} });

describe('KMS key vault', () => {
  it('when encrypting then GenerateDataKey gets the key, AES_256 and exactly the encryption context', async () => {
    const vault = createKmsKeyVault({ keyId: 'alias/minirag' });
    const env = await vault.encrypt(secret, ctx);
    const [call] = kms.commandCalls(GenerateDataKeyCommand);
    expect(call?.args[0].input).toEqual({
      KeyId: 'alias/minirag',
      KeySpec: 'AES_256',
      EncryptionContext: { tenantId: 'tenant-a', botProfileId: 'bot-1', purpose: 'bot-credentials' },
    });
    expect(env).toMatchObject({ v: 1, keyId: KEY_ARN, encryptedDataKey: blob.toString('base64') });
  });

  it('when a record is encrypted or decrypted then the plaintext data key KMS returned is zeroed', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    expect(handedOut).toHaveLength(1);
    expect(isZero(handedOut[0]!)).toBe(true);

    await expect(vault.decrypt(env, ctx)).resolves.toBe(secret);
    expect(handedOut).toHaveLength(2);
    expect(isZero(handedOut[1]!)).toBe(true);
  });

  it('when decrypting then Decrypt gets the blob, the key id and exactly the encryption context', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    await vault.decrypt(env, { purpose: 'bot-credentials', botProfileId: 'bot-1', tenantId: 'tenant-a' });
    const input = kms.commandCalls(DecryptCommand)[0]?.args[0].input;
    expect(input).toEqual({ CiphertextBlob: blob, KeyId: KEY_ARN, EncryptionContext: { ...ctx } });
  });

  it('when KMS denies access then a ProviderError with a readable message and no secret or stack', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    kms.on(DecryptCommand).rejects(awsError('AccessDeniedException'));
    const error = (await vault.decrypt(env, ctx).catch((e: unknown) => e)) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.status).toBe(502);
    expect(error.message).toBe("The key service refused to decrypt the bot's credentials");
    expect((error.cause as Error).name).toBe('AccessDeniedException');
    const visible = JSON.stringify({ message: error.message, details: error.details });
    expect(visible).not.toContain(secret);
    expect(visible).not.toContain(dataKey.toString('base64'));
    expect(visible).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['InvalidCiphertextException', /altered or belong to another bot/],
    ['KMSInvalidStateException', /disabled or pending deletion/],
    ['NotFoundException', /does not exist/],
    ['SomethingNew', /The key service failed to decrypt/],
  ])('when KMS answers %s then the message says what happened', async (name, message) => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    kms.on(DecryptCommand).rejects(awsError(name));
    await expect(vault.decrypt(env, ctx)).rejects.toThrow(message);
  });

  it('when the key is disabled while encrypting then ProviderError 502', async () => {
    kms.on(GenerateDataKeyCommand).rejects(new DisabledException({ message: 'disabled', $metadata: {} }));
    const error = await createKmsKeyVault({ keyId: KEY_ARN })
      .encrypt(secret, ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      status: 502,
      message: expect.stringMatching(/could not encrypt .* disabled/),
    });
  });

  it('when KMS throttles then 429 with a retry hint', async () => {
    kms.on(GenerateDataKeyCommand).rejects(awsError('ThrottlingException'));
    const error = await createKmsKeyVault({ keyId: KEY_ARN })
      .encrypt(secret, ctx)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 1 });
  });

  it('when KMS returns a data key of the wrong size then nothing is encrypted with it', async () => {
    kms
      .on(GenerateDataKeyCommand)
      .resolves({ KeyId: KEY_ARN, Plaintext: Buffer.alloc(16, 7), CiphertextBlob: blob });
    await expect(createKmsKeyVault({ keyId: KEY_ARN }).encrypt(secret, ctx)).rejects.toThrow(
      /unusable data key/,
    );
  });

  it('when a local-keyring envelope reaches the KMS vault then it refuses without calling KMS', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = { ...(await vault.encrypt(secret, ctx)), keyId: 'local:0a1b2c3d' };
    await expect(vault.decrypt(env, ctx)).rejects.toThrow(/local master key/);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(0);
  });
});

describe('KMS key vault decrypt cache', () => {
  it('when the same record is decrypted twice then KMS is asked once (cache on by default)', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = await vault.encrypt(secret, ctx);
    await expect(vault.decrypt(env, ctx)).resolves.toBe(secret);
    await expect(vault.decrypt(env, ctx)).resolves.toBe(secret);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
    expect(handedOut.every(isZero)).toBe(true);
  });

  it('when the cache is off then every decrypt asks KMS', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    await vault.decrypt(env, ctx);
    await vault.decrypt(env, ctx);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
  });

  it('when a cached record is asked for with another context then KMS is asked (and refuses)', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = await vault.encrypt(secret, ctx);
    await vault.decrypt(env, ctx);
    kms.on(DecryptCommand).rejects(awsError('InvalidCiphertextException'));
    await expect(vault.decrypt(env, { ...ctx, tenantId: 'tenant-b' })).rejects.toBeInstanceOf(ProviderError);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
  });

  it('when entries expire, are evicted or cleared then their key copies are zeroed', () => {
    let now = 0;
    const cache = createDataKeyCache({ ttlMs: 1000, maxEntries: 2, now: () => now });
    const copies: Buffer[] = [];
    const remember = (k: string) => cache.use(k, (key) => copies.push(key));
    for (const k of ['a', 'b', 'c']) cache.put(k, randomBytes(32));
    expect(cache.size).toBe(2);
    expect(cache.use('a', () => 1)).toBeUndefined();
    remember('b');
    remember('c');
    now = 5000;
    expect(cache.use('b', () => 1)).toBeUndefined();
    cache.clear();
    expect(copies).toHaveLength(2);
    expect(copies.every(isZero)).toBe(true);
  });
});

describe('KMS key vault rewrap', () => {
  it('when rewrapping an old record then ReEncrypt gets both contexts and the current key', async () => {
    const oldArn = 'arn:aws:kms:eu-west-1:111122223333:key/old';
    kms.on(ReEncryptCommand).resolves({ KeyId: KEY_ARN, CiphertextBlob: Buffer.from('new-blob') });
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = { ...(await vault.encrypt(secret, ctx)), keyId: oldArn };
    const next = await vault.rewrap(env, ctx);
    expect(kms.commandCalls(ReEncryptCommand)[0]?.args[0].input).toEqual({
      CiphertextBlob: blob,
      SourceKeyId: oldArn,
      SourceEncryptionContext: { ...ctx },
      DestinationKeyId: KEY_ARN,
      DestinationEncryptionContext: { ...ctx },
    });
    expect(next).toEqual({
      ...env,
      keyId: KEY_ARN,
      encryptedDataKey: Buffer.from('new-blob').toString('base64'),
    });
  });

  it('when configured with an alias then the key ARN is learnt and current records are not re-encrypted', async () => {
    const vault = createKmsKeyVault({ keyId: 'alias/minirag' });
    const env = await vault.encrypt(secret, ctx);
    await expect(vault.rewrap(env, ctx)).resolves.toBe(env);
    expect(kms.commandCalls(ReEncryptCommand)).toHaveLength(0);
  });

  it('when the alias already points at the record’s key then ReEncrypt’s answer is discarded', async () => {
    kms.on(ReEncryptCommand).resolves({ KeyId: KEY_ARN, CiphertextBlob: Buffer.from('same-key-new-blob') });
    const writer = createKmsKeyVault({ keyId: KEY_ARN });
    const env = await writer.encrypt(secret, ctx);
    await expect(createKmsKeyVault({ keyId: 'alias/minirag' }).rewrap(env, ctx)).resolves.toBe(env);
  });
});

describe('KMS key vault, answers it cannot use', () => {
  it('when Decrypt answers with a data key of the wrong length then it is refused as unusable', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN, cacheTtlMs: 0 });
    const env = await vault.encrypt(secret, ctx);
    for (const Plaintext of [new Uint8Array(16), undefined]) {
      kms.on(DecryptCommand).resolves({ KeyId: KEY_ARN, Plaintext });
      const error = await vault.decrypt(env, ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as Error).message).toBe('The key service returned an unusable data key');
    }
  });

  it('when ReEncrypt answers without a data key then the rewrap fails and the record is left as it was', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = {
      ...(await vault.encrypt(secret, ctx)),
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/old',
    };
    kms.on(ReEncryptCommand).resolves({ KeyId: KEY_ARN });
    const error = await vault.rewrap(env, ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toBe('The key service returned no re-encrypted data key');
  });

  it('when ReEncrypt fails then the error names the re-encryption', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = {
      ...(await vault.encrypt(secret, ctx)),
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/old',
    };
    kms.on(ReEncryptCommand).rejects(awsError('AccessDeniedException'));
    await expect(vault.rewrap(env, ctx)).rejects.toThrow(
      "The key service refused to re-encrypt the bot's credentials",
    );
  });

  it('when configured with a key ARN then records under that ARN are current without asking KMS', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    kms.on(GenerateDataKeyCommand).callsFake(() => ({ Plaintext: fresh(), CiphertextBlob: blob }));
    const env = await vault.encrypt(secret, ctx);
    expect(env.keyId).toBe(KEY_ARN); // KMS named no key: the configured one
    await expect(vault.rewrap(env, ctx)).resolves.toBe(env);
    expect(kms.commandCalls(ReEncryptCommand)).toHaveLength(0);
  });

  it('when configured with an alias then the ARN learnt from ReEncrypt makes the record current next time', async () => {
    const oldArn = 'arn:aws:kms:eu-west-1:111122223333:key/old';
    kms.on(ReEncryptCommand).resolves({ KeyId: KEY_ARN, CiphertextBlob: Buffer.from('new-blob') });
    const vault = createKmsKeyVault({ keyId: 'alias/minirag' });
    const writer = createKmsKeyVault({ keyId: oldArn });
    kms
      .on(GenerateDataKeyCommand)
      .callsFake(() => ({ KeyId: oldArn, Plaintext: fresh(), CiphertextBlob: blob }));
    const env = await writer.encrypt(secret, ctx);
    const next = await vault.rewrap(env, ctx);
    expect(next.keyId).toBe(KEY_ARN);
    await expect(vault.rewrap(next, ctx)).resolves.toBe(next);
    expect(kms.commandCalls(ReEncryptCommand)).toHaveLength(1);
  });

  it('when ReEncrypt names no key then the record is labelled with the configured key', async () => {
    kms.on(ReEncryptCommand).resolves({ CiphertextBlob: Buffer.from('new-blob') });
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = {
      ...(await vault.encrypt(secret, ctx)),
      keyId: 'arn:aws:kms:eu-west-1:111122223333:key/old',
    };
    expect((await vault.rewrap(env, ctx)).keyId).toBe(KEY_ARN);
  });

  it('when the cache is cleared then the next decrypt asks KMS again', async () => {
    const vault = createKmsKeyVault({ keyId: KEY_ARN });
    const env = await vault.encrypt(secret, ctx);
    await vault.decrypt(env, ctx);
    await vault.decrypt(env, ctx);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(1);
    vault.clearCache();
    await expect(vault.decrypt(env, ctx)).resolves.toBe(secret);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
  });
});
