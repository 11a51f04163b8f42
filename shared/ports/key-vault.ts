/**
 * The KeyVault port: envelope encryption of a bot's provider credentials.
 *
 * The envelope format (how the payload is sealed with the data key) lives in `shared/crypto/envelope.ts`:
 * both adapters must produce byte-compatible envelopes and differ only in how the data key is wrapped.
 */

/** What an encrypted credential is bound to. KMS checks it on the data key; GCM checks it on the payload. */
export interface EncryptionContext {
  readonly tenantId: string;
  readonly botProfileId: string;
  readonly purpose: 'bot-credentials';
}

/** A JSON-safe record, stored as-is in a jsonb column. All binary fields are base64. */
export interface Envelope {
  readonly v: 1;
  /** The key that wraps the data key: a KMS key ARN, or `local:<8 hex>` for a local master key. */
  readonly keyId: string;
  readonly encryptedDataKey: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export interface KeyVault {
  /** The key new envelopes are written under (as configured: a KMS key id/ARN/alias or a local key id). */
  readonly currentKeyId: string;
  encrypt(plaintext: string, ctx: EncryptionContext): Promise<Envelope>;
  /** Throws (never returns garbage) when the envelope was altered or belongs to another context. */
  decrypt(env: Envelope, ctx: EncryptionContext): Promise<string>;
  /**
   * Re-wraps the data key under the current key; the payload is untouched. Returns `env` itself
   * (same object) when it is already under the current key, so callers can skip the write.
   */
  rewrap(env: Envelope, ctx: EncryptionContext): Promise<Envelope>;
}
