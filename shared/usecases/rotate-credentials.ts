import type { CredentialCursor, CredentialStore } from '#shared/ports/credential-store.ts';
import type { EncryptionContext, Envelope, KeyVault } from '#shared/ports/key-vault.ts';

export interface RotationCounts {
  scanned: number;
  rewrapped: number;
  alreadyCurrent: number;
  /** Changed by someone else while we worked; a later run checks them again. */
  changedMeanwhile: number;
  failed: number;
}

export interface RotationFailure {
  readonly tenantId: string;
  readonly id: string;
  /** The vault's message (never contains key material or plaintext). */
  readonly reason: string;
}

export interface RotationResult extends RotationCounts {
  readonly failures: readonly RotationFailure[];
}

export interface RotateOptions {
  readonly batchSize?: number;
  /** Start after this record instead of the beginning (a run interrupted at a known point). */
  readonly startAfter?: CredentialCursor | null;
  /** Called after each batch, e.g. for a progress bar or to remember where to resume. */
  readonly onBatch?: (cursor: CredentialCursor, counts: Readonly<RotationCounts>) => void;
}

/**
 * Moves every stored bot credential under the vault's current key (after `addMasterKey` or a new
 * KMS key). Only the data key is re-wrapped; the sealed credential itself is not touched.
 *
 * Idempotent: a record already under the current key is left alone (the vault returns it unchanged),
 * so a second run changes nothing. Resumable: records are walked by cursor, and a crash half-way
 * (a store error propagates) is resumed by simply running again — what was done is now "current".
 * A record the vault cannot rewrap (altered, missing old key, KMS refusal) is counted and listed in
 * `failures`, and the walk goes on: one bad row must not block the rotation of the others.
 */
export async function rotateCredentials(
  vault: KeyVault,
  store: CredentialStore,
  options: RotateOptions = {},
): Promise<RotationResult> {
  const batchSize = options.batchSize ?? 100;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('batchSize must be a positive integer');
  const counts: RotationCounts = {
    scanned: 0,
    rewrapped: 0,
    alreadyCurrent: 0,
    changedMeanwhile: 0,
    failed: 0,
  };
  const failures: RotationFailure[] = [];
  let cursor = options.startAfter ?? null;

  for (;;) {
    const batch = await store.listAfter(cursor, batchSize);
    for (const record of batch) {
      counts.scanned++;
      const ctx: EncryptionContext = {
        tenantId: record.tenantId,
        botProfileId: record.id,
        purpose: 'bot-credentials',
      };
      let next: Envelope;
      try {
        next = await vault.rewrap(record.credentials, ctx);
      } catch (error) {
        counts.failed++;
        failures.push({ tenantId: record.tenantId, id: record.id, reason: reasonOf(error) });
        continue;
      }
      if (next === record.credentials) {
        counts.alreadyCurrent++;
      } else if (await store.update(record.tenantId, record.id, record.credentials, next)) {
        counts.rewrapped++;
      } else {
        counts.changedMeanwhile++;
      }
    }
    const last = batch.at(-1);
    if (!last) break;
    cursor = { tenantId: last.tenantId, id: last.id };
    options.onBatch?.(cursor, { ...counts });
    if (batch.length < batchSize) break;
  }
  return { ...counts, failures };
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : 'unknown error');
