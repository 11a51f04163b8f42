import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CredentialError } from '../domain/errors.ts';
import type { EncryptionContext, Envelope } from '../ports/key-vault.ts';

/**
 * The envelope FORMAT of the KeyVault port: how the payload is sealed with the data key. Both adapters
 * (KMS, local keyring) must produce byte-compatible envelopes: they differ only in how the data key is
 * wrapped (`encryptedDataKey`). Keeping the payload code here, in one place, is what guarantees that;
 * the adapters never touch the payload cipher themselves.
 */

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');

/** For reading an envelope back from the database (jsonb arrives as `unknown`). */
export const envelopeSchema = z.object({
  v: z.literal(1),
  keyId: z.string().min(1),
  encryptedDataKey: base64.min(1),
  iv: base64,
  tag: base64,
  ciphertext: base64,
});

export function parseEnvelope(value: unknown): Envelope {
  const result = envelopeSchema.safeParse(value);
  if (!result.success) {
    throw new CredentialError("The bot's stored credentials are unreadable; set them again");
  }
  return result.data;
}

export function isEnvelope(value: unknown): value is Envelope {
  return envelopeSchema.safeParse(value).success;
}

export const DATA_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;
const ALGORITHM = 'aes-256-gcm';

/**
 * The context as one deterministic string (keys sorted, only the three known keys), so the same
 * context always yields the same GCM AAD whatever order the caller built the object in.
 */
export function canonicalContext(ctx: EncryptionContext): string {
  assertContext(ctx);
  return JSON.stringify({ botProfileId: ctx.botProfileId, purpose: ctx.purpose, tenantId: ctx.tenantId });
}

/** The GCM additional authenticated data for a context: its canonical form as UTF-8. */
export const contextAad = (ctx: EncryptionContext): Buffer => Buffer.from(canonicalContext(ctx), 'utf8');

/** The context in the shape KMS wants (`EncryptionContext: Record<string, string>`). */
export function contextRecord(ctx: EncryptionContext): Record<string, string> {
  assertContext(ctx);
  return { tenantId: ctx.tenantId, botProfileId: ctx.botProfileId, purpose: ctx.purpose };
}

function assertContext(ctx: EncryptionContext): void {
  // An empty id would bind every such record to the same context: refuse rather than weaken the binding.
  if (!ctx.tenantId || !ctx.botProfileId || ctx.purpose !== 'bot-credentials') {
    throw new CredentialError('Invalid encryption context for bot credentials');
  }
}

/** Failures of the local crypto: never say which check failed or echo any input. */
export const unreadableCredentials = (cause?: unknown) =>
  new CredentialError(
    "The bot's credentials could not be decrypted: they were altered or belong to another bot",
    {
      cause,
    },
  );

/** The three parts of an AES-GCM result, as raw bytes. */
export interface GcmBox {
  readonly iv: Buffer;
  readonly tag: Buffer;
  readonly ciphertext: Buffer;
}

/** The payload fields of an envelope (base64). */
export type SealedPayload = Pick<Envelope, 'iv' | 'tag' | 'ciphertext'>;

/** AES-256-GCM under `key` with a fresh 12-byte IV; the AAD binds the result to `aad`. */
export function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): GcmBox {
  const iv = randomBytes(GCM_IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/**
 * Opens a GCM box; throws on any mismatch. The IV and tag lengths are checked explicitly because Node
 * would otherwise accept truncated tags (down to 4 bytes), which weakens authentication.
 */
export function gcmOpen(key: Uint8Array, box: GcmBox, aad: Uint8Array): Buffer {
  if (box.iv.length !== GCM_IV_BYTES || box.tag.length !== GCM_TAG_BYTES) throw unreadableCredentials();
  try {
    const decipher = createDecipheriv(ALGORITHM, key, box.iv, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(box.tag);
    return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]);
  } catch (cause) {
    throw unreadableCredentials(cause);
  }
}

/** Seals the credential with a data key the adapter obtained; the caller zeroes the data key. */
export function sealPayload(dataKey: Uint8Array, plaintext: string, ctx: EncryptionContext): SealedPayload {
  if (dataKey.length !== DATA_KEY_BYTES) throw unreadableCredentials();
  const bytes = Buffer.from(plaintext, 'utf8');
  try {
    const box = gcmSeal(dataKey, bytes, contextAad(ctx));
    return {
      iv: box.iv.toString('base64'),
      tag: box.tag.toString('base64'),
      ciphertext: box.ciphertext.toString('base64'),
    };
  } finally {
    bytes.fill(0);
  }
}

/**
 * Opens the credential. The returned JS string cannot be zeroed (strings are immutable); the
 * intermediate buffer is, so the only plaintext copy left is the one the caller holds.
 */
export function openPayload(dataKey: Uint8Array, env: Envelope, ctx: EncryptionContext): string {
  if (dataKey.length !== DATA_KEY_BYTES) throw unreadableCredentials();
  const box = {
    iv: Buffer.from(env.iv, 'base64'),
    tag: Buffer.from(env.tag, 'base64'),
    ciphertext: Buffer.from(env.ciphertext, 'base64'),
  };
  const bytes = gcmOpen(dataKey, box, contextAad(ctx));
  try {
    return bytes.toString('utf8');
  } finally {
    bytes.fill(0);
  }
}

/** Zeroes key material in place; accepts what the AWS SDK returns (`Uint8Array`) as well as Buffers. */
export function zero(...keys: (Uint8Array | undefined)[]): void {
  for (const key of keys) key?.fill(0);
}
