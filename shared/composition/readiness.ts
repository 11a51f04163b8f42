import { readdir } from 'node:fs/promises';
import { DEFAULT_MIGRATIONS_DIR } from '../db/migrate.ts';
import { sql } from '../db/sql.ts';
import { serviceUnavailableIn } from '../domain/errors.ts';
import type { Platform } from '../platform.ts';
import { countJobs } from '../repositories/jobs.ts';

export type CheckName = 'database' | 'migrations' | 'vector store' | 'queue';

export interface CheckResult {
  readonly name: CheckName;
  readonly ok: boolean;
  /** What was found, for a person: on failure it names the remedy. Never a credential. */
  readonly detail: string;
  /** A failure only an operator can fix (a missing extension, a schema behind the code), not an outage. */
  readonly misconfigured?: boolean;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: readonly CheckResult[];
}

/**
 * What the configuration needs, checked from outside in: the database answers and is migrated to this
 * version's level, the vector store answers and holds the embedder's space (pgvector installed, a Qdrant
 * collection of the embedder's vector size), the queue's table answers. `npm start` refuses to start on a
 * failure; the Lambda apps answer 503 with it; GET /readyz shows it.
 */
export async function checkReadiness(
  p: Pick<Platform, 'db' | 'vectorStore' | 'embedder' | 'config'>,
  options: { readonly migrationsDir?: string } = {},
): Promise<ReadinessReport> {
  const database = await check('database', async () => {
    await p.db.withSystem((tx) => tx.query(sql`select 1`));
    return `${p.db.kind} answers`;
  });
  const checks: CheckResult[] = [database];
  if (database.ok) {
    checks.push(await check('migrations', () => migrationLevel(p, options.migrationsDir)));
    checks.push(
      await check('queue', async () => {
        const counts = await p.db.withSystem((tx) => countJobs(tx));
        const parts = Object.entries(counts).map(([status, n]) => `${n} ${status}`);
        return `job table answers (${parts.length > 0 ? parts.join(', ') : 'empty'})`;
      }),
    );
  }
  // The vector store is checked even with the database down when it is a service of its own (Qdrant).
  if (database.ok || p.config.VECTOR_STORE === 'qdrant') {
    checks.push(
      await check('vector store', async () => {
        const space = p.embedder.space;
        await p.vectorStore.ensureSpace(space);
        await p.vectorStore.ping?.(space);
        return `${p.config.VECTOR_STORE} holds ${space.provider}/${space.model} (${space.dimensions} dimensions)`;
      }),
    );
  }
  return { ready: checks.every((c) => c.ok), checks };
}

async function check(name: CheckName, run: () => Promise<string>): Promise<CheckResult> {
  try {
    return { name, ok: true, detail: await run() };
  } catch (error) {
    const unavailable = serviceUnavailableIn(error);
    const misconfigured = unavailable ? !unavailable.retryable : error instanceof MigrationsBehind;
    const detail =
      error instanceof Error ? error.message : `the check failed (${String(error).slice(0, 200)})`;
    return { name, ok: false, detail: hint(name, detail, !!unavailable), misconfigured };
  }
}

/** The remedy for a failure whose message does not already carry one. */
function hint(name: CheckName, detail: string, outage: boolean): string {
  if (name === 'database' && outage) return `${detail} Check DATABASE_URL and that the server is running.`;
  return detail;
}

class MigrationsBehind extends Error {}

async function migrationLevel(p: Pick<Platform, 'db'>, dir = DEFAULT_MIGRATIONS_DIR): Promise<string> {
  const rows = await p.db
    .withSystem((tx) => tx.query<{ name: string }>(sql`select name from schema_migrations`))
    .catch((error: unknown) => {
      if ((error as { code?: unknown }).code !== '42P01') throw error;
      throw new MigrationsBehind(
        'The database has no MiniRAG schema yet: run `npx minirag migrate` (in AWS the migrate function runs on deploy).',
      );
    });
  const applied = new Set(rows.map((r) => r.name));
  // The newest applied file names the level (`minirag doctor` compares it with the migrations it ships).
  const latest =
    [...applied]
      .sort()
      .at(-1)
      ?.replace(/\.sql$/, '') ?? 'nothing';
  let expected: string[];
  try {
    expected = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f)).sort();
  } catch {
    // A bundle without the migration files (the api function): the level cannot be compared here.
    return `migrated to ${latest} (${applied.size} migrations applied)`;
  }
  const missing = expected.filter((f) => !applied.has(f));
  if (missing.length > 0) {
    throw new MigrationsBehind(
      `The database schema lacks ${missing.length} migration(s) this version needs (${missing.join(', ')}): run \`npx minirag migrate\` (in AWS the migrate function runs on deploy).`,
    );
  }
  return `migrated to ${latest} (${expected.length} of ${expected.length} migrations applied)`;
}
