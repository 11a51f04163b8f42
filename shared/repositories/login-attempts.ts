import { createHash } from 'node:crypto';
import { sql } from '../db/sql.ts';
import type { SystemQueryable } from '../ports/database.ts';

/**
 * Failed sign-ins per (tenant slug, email), kept whether or not the tenant or the account exists, so
 * that a lockout says nothing about which emails have accounts. Only a hash of the pair is stored.
 */
export function loginAttemptKey(tenantSlug: string, email: string): string {
  return createHash('sha256').update(`${tenantSlug.toLowerCase()}\n${email.toLowerCase()}`).digest('hex');
}

export interface LoginFailures {
  readonly failures: number;
  readonly lastFailedAt: Date;
}

export async function findLoginFailures(tx: SystemQueryable, key: string): Promise<LoginFailures | null> {
  const [row] = await tx.query<{ failures: number; last_failed_at: Date }>(
    sql`select failures, last_failed_at from login_attempts where key = ${key}`,
  );
  return row ? { failures: row.failures, lastFailedAt: row.last_failed_at } : null;
}

/**
 * One more failure. Counts reset only on a successful sign-in, so after a lockout each further wrong try
 * locks again at once. Entries idle for a day are dropped (a guessing run that slow is harmless), which
 * keeps the table small however many made-up emails are tried.
 */
export async function recordLoginFailure(tx: SystemQueryable, key: string): Promise<void> {
  await tx.query(sql`delete from login_attempts where last_failed_at < now() - interval '1 day'`);
  await tx.query(sql`
    insert into login_attempts (key, failures, last_failed_at) values (${key}, 1, now())
    on conflict (key) do update set failures = login_attempts.failures + 1, last_failed_at = now()`);
}

export async function clearLoginFailures(tx: SystemQueryable, key: string): Promise<void> {
  await tx.query(sql`delete from login_attempts where key = ${key}`);
}
