import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type AwsJsonServer, AwsServiceError, startAwsJsonServer } from './aws-json-server.ts';
import type { Authorize } from './secrets-manager-server.ts';

export interface FakeKms extends AwsJsonServer {
  readonly keyArn: string;
}

/**
 * KMS over its real wire protocol (awsJson1_1, `TrentService.*`) for one symmetric key: GenerateDataKey and
 * Decrypt. The ciphertext blob really is the data key sealed (AES-256-GCM) under a key only this server
 * holds, with the encryption context as additional authenticated data, so a Decrypt with any other context
 * fails with InvalidCiphertextException exactly as KMS's does — the stand-in cannot be talked into it.
 */
export async function startFakeKms(options: { keyArn: string; authorize?: Authorize }): Promise<FakeKms> {
  const { keyArn } = options;
  const keyId = keyArn.split('/').pop()!;
  const root = randomBytes(32);
  const aad = (context: unknown) => {
    const entries = Object.entries((context ?? {}) as Record<string, string>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return Buffer.from(JSON.stringify(entries));
  };
  const conditionKeys = (context: unknown) => {
    const ctx = (context ?? {}) as Record<string, string>;
    return {
      'kms:EncryptionContextKeys': Object.keys(ctx),
      ...Object.fromEntries(Object.entries(ctx).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])),
    };
  };
  const checkKey = (requested: unknown) => {
    const id = String(requested ?? '');
    if (id !== keyArn && id !== keyId) {
      throw new AwsServiceError('NotFoundException', `Key '${id}' does not exist`);
    }
  };

  const server = await startAwsJsonServer(
    { targetPrefix: 'TrentService', jsonVersion: '1.1', signingName: 'kms' },
    {
      GenerateDataKey(input, call) {
        checkKey(input.KeyId);
        options.authorize?.(call, 'kms:GenerateDataKey', keyArn, conditionKeys(input.EncryptionContext));
        if (input.KeySpec !== 'AES_256' && input.NumberOfBytes !== 32) {
          throw new AwsServiceError('ValidationException', 'the stand-in only makes AES_256 data keys');
        }
        const plaintext = randomBytes(32);
        const iv = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', root, iv).setAAD(aad(input.EncryptionContext));
        const sealed = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
        return {
          CiphertextBlob: sealed.toString('base64'),
          Plaintext: plaintext.toString('base64'),
          KeyId: keyArn,
        };
      },
      Decrypt(input, call) {
        if (input.KeyId !== undefined) checkKey(input.KeyId);
        options.authorize?.(call, 'kms:Decrypt', keyArn, conditionKeys(input.EncryptionContext));
        const blob = Buffer.from(String(input.CiphertextBlob ?? ''), 'base64');
        try {
          const decipher = createDecipheriv('aes-256-gcm', root, blob.subarray(0, 12))
            .setAAD(aad(input.EncryptionContext))
            .setAuthTag(blob.subarray(blob.length - 16));
          const plaintext = Buffer.concat([
            decipher.update(blob.subarray(12, blob.length - 16)),
            decipher.final(),
          ]);
          return {
            Plaintext: plaintext.toString('base64'),
            KeyId: keyArn,
            EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          };
        } catch {
          throw new AwsServiceError('InvalidCiphertextException', '');
        }
      },
    },
  );
  return { ...server, keyArn };
}
