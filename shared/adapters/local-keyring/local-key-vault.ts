import { createHash, randomBytes } from 'node:crypto';
import {
  contextAad,
  DATA_KEY_BYTES,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  gcmOpen,
  gcmSeal,
  openPayload,
  sealPayload,
  unreadableCredentials,
  zero,
} from '#shared/crypto/envelope.ts';
import { CredentialError, ProviderError } from '#shared/domain/errors.ts';
import type { EncryptionContext, Envelope, KeyVault } from '#shared/ports/key-vault.ts';

export interface MasterKey {
  /** `local:<8 hex>`, a fingerprint of the key (see `masterKeyId`). */
  readonly id: string;
  readonly key: Buffer;
}

export interface LocalKeyVaultOptions {
  /** Every key that may still wrap stored records; the current one plus any not yet rotated away. */
  readonly masterKeys: readonly MasterKey[];
  readonly currentKeyId: string;
}

/**
 * A short public name for a master key. It is a hash, not the key: 32 bits of SHA-256 over a 256-bit
 * random key reveal nothing useful, and let an envelope say which key wraps it.
 */
export function masterKeyId(key: Uint8Array): string {
  const digest = createHash('sha256').update('minirag-master-key-id\0').update(key).digest('hex');
  return `local:${digest.slice(0, 8)}`;
}

/** A master key from its base64 form (as in `MASTER_KEY` or the local key file). */
export function masterKeyFromBase64(encoded: string): MasterKey {
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== DATA_KEY_BYTES) {
    throw new ProviderError('The local master key must be 32 bytes encoded as base64', { status: 500 });
  }
  return { id: masterKeyId(key), key };
}

/**
 * The vault from base64 keys as configuration holds them (`MASTER_KEY` or the local key file's
 * `masterKey` + `previousMasterKeys`).
 */
export function createLocalKeyVaultFromBase64(keys: {
  current: string;
  previous?: readonly string[];
}): KeyVault {
  const current = masterKeyFromBase64(keys.current);
  // Stryker disable next-line MethodExpression,ConditionalExpression: the keyring is a map by key id, so the current key repeated among the previous ones is held once either way
  const previous = (keys.previous ?? []).map(masterKeyFromBase64).filter((k) => k.id !== current.id);
  return createLocalKeyVault({ masterKeys: [current, ...previous], currentKeyId: current.id });
}

/**
 * KeyVault without a cloud: the same envelope as the KMS adapter, but each record's data key is
 * wrapped with AES-256-GCM under a local master key, with the canonical context as AAD (the binding
 * KMS gives with its encryption context). `encryptedDataKey` is base64(iv ‖ tag ‖ wrapped key).
 */
export function createLocalKeyVault(options: LocalKeyVaultOptions): KeyVault {
  const keys = new Map<string, Buffer>();
  for (const { id, key } of options.masterKeys) {
    if (key.length !== DATA_KEY_BYTES) {
      throw new ProviderError(`The local master key ${id} must be 32 bytes`, { status: 500 });
    }
    // A private copy: the caller may zero or reuse its buffers without breaking the vault.
    keys.set(id, Buffer.from(key));
  }
  const { currentKeyId } = options;
  const current = keys.get(currentKeyId);
  if (!current) {
    throw new ProviderError(`The current local master key ${currentKeyId} is not in the keyring`, {
      status: 500,
    });
  }

  const wrap = (masterKey: Buffer, dataKey: Uint8Array, ctx: EncryptionContext): string => {
    const box = gcmSeal(masterKey, dataKey, contextAad(ctx));
    return Buffer.concat([box.iv, box.tag, box.ciphertext]).toString('base64');
  };

  const unwrap = (env: Envelope, ctx: EncryptionContext): Buffer => {
    const masterKey = keys.get(env.keyId);
    if (!masterKey) {
      throw new CredentialError(
        `The bot's credentials were encrypted under a master key this server does not have (${env.keyId})`,
      );
    }
    const blob = Buffer.from(env.encryptedDataKey, 'base64');
    if (blob.length !== GCM_IV_BYTES + GCM_TAG_BYTES + DATA_KEY_BYTES) throw unreadableCredentials();
    const box = {
      iv: blob.subarray(0, GCM_IV_BYTES),
      tag: blob.subarray(GCM_IV_BYTES, GCM_IV_BYTES + GCM_TAG_BYTES),
      ciphertext: blob.subarray(GCM_IV_BYTES + GCM_TAG_BYTES),
    };
    return gcmOpen(masterKey, box, contextAad(ctx));
  };

  return {
    currentKeyId,

    async encrypt(plaintext, ctx) {
      const dataKey = randomBytes(DATA_KEY_BYTES);
      try {
        const encryptedDataKey = wrap(current, dataKey, ctx);
        return { v: 1, keyId: currentKeyId, encryptedDataKey, ...sealPayload(dataKey, plaintext, ctx) };
      } finally {
        zero(dataKey);
      }
    },

    async decrypt(env, ctx) {
      const dataKey = unwrap(env, ctx);
      try {
        return openPayload(dataKey, env, ctx);
      } finally {
        zero(dataKey);
      }
    },

    async rewrap(env, ctx) {
      if (env.keyId === currentKeyId) return env;
      const dataKey = unwrap(env, ctx);
      try {
        return { ...env, keyId: currentKeyId, encryptedDataKey: wrap(current, dataKey, ctx) };
      } finally {
        zero(dataKey);
      }
    },
  };
}
