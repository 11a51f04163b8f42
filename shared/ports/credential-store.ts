import type { Envelope } from './key-vault.ts';

/** Where rotation stops and resumes: the last record handled, in the store's (tenantId, id) order. */
export interface CredentialCursor {
  readonly tenantId: string;
  readonly id: string;
}

export interface StoredCredentials {
  readonly tenantId: string;
  /** The bot profile id: with the tenant it forms the encryption context. */
  readonly id: string;
  readonly credentials: Envelope;
}

/**
 * What key rotation needs from the database: every stored credential envelope, across tenants
 * (`repositories/bot-credentials-store.ts` implements it on `bot_profiles`, as the owner). Only rows
 * that have credentials are listed.
 */
export interface CredentialStore {
  /** Up to `limit` records strictly after `cursor`, ordered by (tenantId, id). */
  listAfter(cursor: CredentialCursor | null, limit: number): Promise<StoredCredentials[]>;
  /**
   * Compare-and-swap: writes `next` only if the stored envelope still equals `old`; false when it
   * changed meanwhile (someone set new credentials, which were written under the current key anyway).
   */
  update(tenantId: string, id: string, old: Envelope, next: Envelope): Promise<boolean>;
}
