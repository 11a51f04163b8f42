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

export type LoginCharge =
  | { readonly charged: true }
  | { readonly charged: false; readonly lockedUntil: Date };

/**
 * Counts this attempt as a failure BEFORE the password is checked, unless the pair is locked out
 * (`maxFailures` failures, the last less than `lockoutSeconds` before `now`). One upsert decides and
 * counts, and the database serialises upserts of one key, so concurrent attempts cannot all read the
 * same count: at most `maxFailures` password checks run per lockout period, however many arrive at
 * once. A correct password then clears the count (clearLoginFailures). After a lockout ends each further
 * wrong try locks again at once: counts reset only on success. Entries idle for a day are dropped (a
 * guessing run that slow is harmless), which keeps the table small however many made-up emails are tried.
 */
export async function chargeLoginAttempt(
  tx: SystemQueryable,
  key: string,
  now: Date,
  limits: { readonly maxFailures: number; readonly lockoutSeconds: number },
): Promise<LoginCharge> {
  await tx.query(
    sql`delete from login_attempts where last_failed_at < ${now}::timestamptz - interval '1 day'`,
  );
  const lockedSince = new Date(now.getTime() - limits.lockoutSeconds * 1000);
  const [charged] = await tx.query<{ failures: number }>(sql`
    insert into login_attempts as a (key, failures, last_failed_at) values (${key}, 1, ${now})
    on conflict (key) do update set failures = a.failures + 1, last_failed_at = ${now}
      where a.failures < ${limits.maxFailures} or a.last_failed_at <= ${lockedSince}
    returning failures`);
  if (charged) return { charged: true };
  const [row] = await tx.query<{ last_failed_at: Date }>(
    sql`select last_failed_at from login_attempts where key = ${key}`,
  );
  const last = row?.last_failed_at ?? now;
  return { charged: false, lockedUntil: new Date(last.getTime() + limits.lockoutSeconds * 1000) };
}

export async function clearLoginFailures(tx: SystemQueryable, key: string): Promise<void> {
  await tx.query(sql`delete from login_attempts where key = ${key}`);
}
