import { DecryptCommand, GenerateDataKeyCommand, KMSClient, ReEncryptCommand } from '@aws-sdk/client-kms';
import {
  canonicalContext,
  contextRecord,
  DATA_KEY_BYTES,
  openPayload,
  sealPayload,
  zero,
} from '#shared/crypto/envelope.ts';
import { CredentialError, ProviderError } from '#shared/domain/errors.ts';
import type { Envelope, KeyVault } from '#shared/ports/key-vault.ts';
import { createDataKeyCache } from './data-key-cache.ts';
import { type KmsOperation, kmsError } from './kms-errors.ts';

export interface KmsKeyVaultOptions {
  /** Key id, key ARN or alias (`alias/minirag-credentials`) new envelopes are written under. */
  readonly keyId: string;
  readonly client?: KMSClient;
  /** How long a decrypted data key may be reused in this container. 0 turns the cache off. Default 5 min. */
  readonly cacheTtlMs?: number;
  /** Most data keys kept at once. Default 100. */
  readonly cacheMax?: number;
}

export type KmsKeyVault = KeyVault & {
  /** Zeroes and forgets every cached data key. */
  clearCache(): void;
};

const KEY_ARN = /^arn:aws[a-z-]*:kms:[^:]+:\d+:key\//;

/**
 * KeyVault on AWS KMS: one `GenerateDataKey` per record, the payload sealed locally with AES-256-GCM
 * (see the port), the plaintext data key zeroed as soon as it has been used. The encryption context
 * goes to every KMS call, so KMS itself refuses a data key presented for another tenant or bot, and
 * CloudTrail records which tenant's credentials were touched.
 *
 * IAM the functions need: kms:GenerateDataKey and kms:Decrypt on the key; the rotation job also
 * kms:ReEncryptFrom (old key) and kms:ReEncryptTo (new key).
 */
export function createKmsKeyVault(options: KmsKeyVaultOptions): KmsKeyVault {
  const { keyId } = options;
  const client = options.client ?? new KMSClient({});
  const cache = createDataKeyCache({
    ttlMs: options.cacheTtlMs ?? 5 * 60_000,
    maxEntries: options.cacheMax ?? 100,
  });
  // Envelopes record the key ARN KMS answered with; when configured with an alias we learn that ARN
  // from KMS responses, so "already current" can be decided without an extra DescribeKey permission.
  let currentArn: string | undefined = KEY_ARN.test(keyId) ? keyId : undefined;
  const isCurrent = (envKeyId: string) => envKeyId === keyId || envKeyId === currentArn;

  return {
    currentKeyId: keyId,

    async encrypt(plaintext, ctx) {
      const EncryptionContext = contextRecord(ctx);
      const out = await call('encrypt', () =>
        client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext })),
      );
      const dataKey = out.Plaintext;
      try {
        if (!dataKey || dataKey.length !== DATA_KEY_BYTES || !out.CiphertextBlob) {
          throw new ProviderError('The key service returned an unusable data key');
        }
        if (out.KeyId) currentArn = out.KeyId;
        const sealed = sealPayload(dataKey, plaintext, ctx);
        return {
          v: 1,
          keyId: out.KeyId ?? keyId,
          encryptedDataKey: Buffer.from(out.CiphertextBlob).toString('base64'),
          ...sealed,
        };
      } finally {
        zero(dataKey);
      }
    },

    async decrypt(env, ctx) {
      assertKmsEnvelope(env);
      const cacheKey = `${env.encryptedDataKey}\n${canonicalContext(ctx)}`;
      const cached = cache.use(cacheKey, (dataKey) => openPayload(dataKey, env, ctx));
      if (cached !== undefined) return cached;

      const out = await call('decrypt', () =>
        client.send(
          new DecryptCommand({
            CiphertextBlob: Buffer.from(env.encryptedDataKey, 'base64'),
            EncryptionContext: contextRecord(ctx),
            KeyId: env.keyId,
          }),
        ),
      );
      const dataKey = out.Plaintext;
      try {
        if (!dataKey || dataKey.length !== DATA_KEY_BYTES) {
          throw new ProviderError('The key service returned an unusable data key');
        }
        const plaintext = openPayload(dataKey, env, ctx);
        // Cached only once the payload authenticated, so a tampered record never warms the cache.
        cache.put(cacheKey, dataKey);
        return plaintext;
      } finally {
        zero(dataKey);
      }
    },

    async rewrap(env, ctx) {
      if (isCurrent(env.keyId)) return env;
      assertKmsEnvelope(env);
      // ReEncrypt keeps the plaintext data key inside KMS; the payload does not change.
      const EncryptionContext = contextRecord(ctx);
      const out = await call('re-encrypt', () =>
        client.send(
          new ReEncryptCommand({
            CiphertextBlob: Buffer.from(env.encryptedDataKey, 'base64'),
            SourceKeyId: env.keyId,
            SourceEncryptionContext: EncryptionContext,
            DestinationKeyId: keyId,
            DestinationEncryptionContext: EncryptionContext,
          }),
        ),
      );
      if (!out.CiphertextBlob) throw new ProviderError('The key service returned no re-encrypted data key');
      if (out.KeyId) currentArn = out.KeyId;
      // Configured with an alias that already points at the envelope's key: nothing to change.
      if (out.KeyId === env.keyId) return env;
      return {
        ...env,
        keyId: out.KeyId ?? keyId,
        encryptedDataKey: Buffer.from(out.CiphertextBlob).toString('base64'),
      };
    },

    clearCache() {
      cache.clear();
    },
  };
}

async function call<T>(operation: KmsOperation, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw kmsError(operation, error);
  }
}

function assertKmsEnvelope(env: Envelope): void {
  if (env.keyId.startsWith('local:')) {
    throw new CredentialError(
      "The bot's credentials were encrypted with a local master key, which this deployment (KMS) cannot read",
    );
  }
}
