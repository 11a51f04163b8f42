import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../ports/database.ts';
import { sql } from './sql.ts';

/** Where the numbered .sql files live; a Lambda bundle ships them beside itself (MIGRATIONS_DIR). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface MigrationResult {
  readonly applied: string[];
  readonly alreadyApplied: number;
}

/**
 * Applies the numbered SQL files not yet recorded in `schema_migrations`, in order, in one transaction
 * holding an advisory lock, so concurrent runs (two Lambdas, two test workers) apply each file once.
 */
export async function migrate(db: Database, dir = DEFAULT_MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  return db.withSystem(async (tx) => {
    await tx.query(sql`select pg_advisory_xact_lock(hashtext('minirag:migrate:' || current_schema()))`);
    await tx.execScript(
      'create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await tx.query<{ name: string }>(sql`select name from schema_migrations`)).map((r) => r.name),
    );
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      await tx.execScript(await readFile(join(dir, file), 'utf8'));
      await tx.query(sql`insert into schema_migrations (name) values (${file})`);
      applied.push(file);
    }
    return { applied, alreadyApplied: done.size };
  });
}
