import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createPostgresDatabase } from '#shared/adapters/postgres/database.ts';
import { createDataApiDatabase } from '#shared/adapters/rds-data/database.ts';
import { migrate } from '#shared/db/migrate.ts';
import type { Database } from '#shared/ports/database.ts';
import { databaseUrlFromSecret } from './database-url.ts';

/**
 * Runs the SQL migrations; invoked on every deploy whose bundle changed (a CDK trigger) and by hand
 * (`aws lambda invoke`) after the operator fills in an external database URL. The bundle ships
 * shared/db/migrations/*.sql in `migrations/` beside itself.
 */

export interface MigrateOutcome {
  readonly status: 'migrated' | 'skipped';
  readonly applied?: string[];
  readonly alreadyApplied?: number;
  readonly reason?: string;
}

const secrets = new SecretsManagerClient({});

function log(level: 'INFO' | 'WARN' | 'ERROR', message: string, extra: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, service: process.env.POWERTOOLS_SERVICE_NAME, ...extra });
  (level === 'ERROR' ? console.error : console.log)(line);
}

async function resolveDatabaseUrl(): Promise<string | undefined> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const secretId = process.env.DATABASE_SECRET_ARN;
  if (!secretId) throw new Error('Neither DATABASE_URL nor DATABASE_SECRET_ARN is set');
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (out.SecretString === undefined) throw new Error('The database secret has no string value');
  return databaseUrlFromSecret(out.SecretString, {
    host: process.env.DATABASE_HOST,
    sslmode: process.env.DATABASE_SSLMODE,
  });
}

function migrationsDir(): string {
  return process.env.MIGRATIONS_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'migrations');
}

/** Connection problems right after the cluster/proxy came up are worth waiting for; SQL errors are not. */
function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string };
  if (e?.name !== 'PostgresError') return true;
  return typeof e.code === 'string' && (e.code.startsWith('08') || e.code === '57P03' || e.code === '53300');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const RETRY_DELAYS_MS = [5_000, 10_000, 20_000, 30_000, 30_000, 30_000];

/** A serverless cluster is reached through the RDS Data API, which reads the secret itself. */
function dataApiDatabase(): Database | undefined {
  if (process.env.DATABASE_DRIVER !== 'data-api') return undefined;
  const resourceArn = process.env.DATABASE_CLUSTER_ARN;
  const secretArn = process.env.DATABASE_SECRET_ARN;
  if (!resourceArn || !secretArn) {
    throw new Error('DATABASE_DRIVER=data-api needs DATABASE_CLUSTER_ARN and DATABASE_SECRET_ARN');
  }
  // Migrations may wait out the cluster's resume (it pauses between deploys) for most of their 5 minutes.
  return createDataApiDatabase({
    resourceArn,
    secretArn,
    database: process.env.DATABASE_NAME ?? 'minirag',
    schema: process.env.DATABASE_SCHEMA,
    resumeBudgetMs: 120_000,
  });
}

export async function handler(): Promise<MigrateOutcome> {
  const viaDataApi = dataApiDatabase();
  if (viaDataApi) {
    try {
      const result = await migrate(viaDataApi, migrationsDir());
      log('INFO', 'Migrations applied', { applied: result.applied, alreadyApplied: result.alreadyApplied });
      return { status: 'migrated', applied: result.applied, alreadyApplied: result.alreadyApplied };
    } finally {
      await viaDataApi.close();
    }
  }
  const url = await resolveDatabaseUrl();
  if (!url) {
    const reason = 'the database secret still holds the placeholder; fill it in, then invoke this function';
    log('WARN', `Migrations skipped: ${reason}`);
    return { status: 'skipped', reason };
  }
  const dir = migrationsDir();
  for (let attempt = 0; ; attempt++) {
    // Migrations may wait for another runner's lock and build indexes: no 10 s statement timeout here.
    const db = createPostgresDatabase({ url, maxConnections: 1, statementTimeoutMs: 900_000 });
    try {
      const result = await migrate(db, dir);
      log('INFO', 'Migrations applied', { applied: result.applied, alreadyApplied: result.alreadyApplied });
      return { status: 'migrated', applied: result.applied, alreadyApplied: result.alreadyApplied };
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !isTransient(error)) throw error;
      log('WARN', 'Database not reachable yet, retrying', {
        attempt: attempt + 1,
        delayMs: delay,
        error: String(error),
      });
      await sleep(delay);
    } finally {
      await db.close();
    }
  }
}
