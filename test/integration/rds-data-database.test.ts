import { randomBytes } from 'node:crypto';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDataApiDatabase } from '#shared/adapters/rds-data/database.ts';
import { DatabaseStatementError } from '#shared/adapters/rds-data/resume.ts';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '#shared/db/migrate.ts';
import { sql } from '#shared/db/sql.ts';
import { ServiceUnavailableError } from '#shared/domain/errors.ts';
import { asTenantId, newId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as tenants from '#shared/repositories/tenants.ts';
import { type FakeDataApi, startFakeDataApi } from '#test/fakes/rds-data-server.ts';

const url = process.env.DATABASE_URL;

describe.skipIf(!url)('RDS Data API database adapter (stand-in on the real PostgreSQL server)', () => {
  let api: FakeDataApi;
  let db: Database;
  let client: RDSDataClient;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const connect = (resumeBudgetMs?: number) =>
    createDataApiDatabase({
      resourceArn: api.resourceArn,
      secretArn: api.secretArn,
      database: api.database,
      schema,
      client,
      ...(resumeBudgetMs === undefined ? {} : { resumeBudgetMs }),
    });

  beforeAll(async () => {
    const admin = postgres(url!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create schema ${schema}`);
    await admin.end();
    api = await startFakeDataApi({ databaseUrl: url! });
    client = new RDSDataClient({
      endpoint: api.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'stand-in-secret' },
      maxAttempts: 1,
    });
    db = connect();
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await api?.close();
    const cleanup = postgres(url!, { max: 1, onnotice: () => {} });
    await cleanup.unsafe(`drop schema if exists ${schema} cascade`);
    await cleanup.end();
  });

  it('when migrations ran through the Data API then every file was applied, one statement per call', async () => {
    const rows = await db.withSystem((tx) =>
      tx.query<{ name: string }>(sql`select name from schema_migrations`),
    );
    expect(rows.map((r) => r.name)).toEqual(
      expect.arrayContaining(['001_init.sql', '002_millisecond_timestamps.sql', '003_login_attempts.sql']),
    );
    const createTenants = api.calls.filter(
      (c) => c.operation === 'Execute' && /^\s*create table tenants/im.test(c.sql ?? ''),
    );
    expect(createTenants).toHaveLength(1);
    expect(createTenants[0]!.sql).not.toMatch(/create table users/i);
  });

  it('when a uuid is sent as a plain Data API string then PostgreSQL refuses it, and the adapter casts it to the probed type', async () => {
    // The stand-in types strings as varchar, as the Data API does: a naive adapter fails here.
    const naive = client.send(
      new (await import('@aws-sdk/client-rds-data')).ExecuteStatementCommand({
        resourceArn: api.resourceArn,
        secretArn: api.secretArn,
        database: api.database,
        sql: `select 1 from ${schema}.tenants where id = :id`,
        parameters: [{ name: 'id', value: { stringValue: newId() } }],
      }),
    );
    await expect(naive).rejects.toThrow(/operator does not exist: uuid = character varying/);

    const id = newId();
    await db.withSystem((tx) =>
      tenants.insertTenant(tx, {
        id,
        slug: `s-${id.slice(0, 8)}`,
        name: 'Ü "quoted" ; name',
        monthlyTokenBudget: 5,
        requestsPerMinute: null,
      }),
    );
    const found = await db.withSystem((tx) => tenants.findTenantById(tx, id));
    expect(found).toMatchObject({ id, name: 'Ü "quoted" ; name', monthlyTokenBudget: 5 });
    expect(found?.createdAt).toBeInstanceOf(Date);
  });

  it('when a tenant transaction reads another tenant then row-level security hides it, as on the other adapters', async () => {
    const a = asTenantId(newId());
    const b = asTenantId(newId());
    for (const id of [a, b]) {
      await db.withSystem((tx) =>
        tenants.insertTenant(tx, {
          id,
          slug: `r-${id.slice(0, 8)}`,
          name: 'r',
          monthlyTokenBudget: null,
          requestsPerMinute: null,
        }),
      );
    }
    const seen = await db.withTenant(a, (tx) =>
      tx.query<{ id: string }>(sql`select id from tenants where id = ${b}`),
    );
    expect(seen).toEqual([]);
    const own = await db.withTenant(a, (tx) =>
      tx.query<{ id: string }>(sql`select id from tenants where id = ${a}`),
    );
    expect(own).toEqual([{ id: a }]);
  });

  it('when a statement violates a constraint then the error carries its SQLSTATE and the transaction is rolled back', async () => {
    const id = newId();
    const slug = `u-${id.slice(0, 8)}`;
    const insert = (tenantId: string) =>
      db.withSystem((tx) =>
        tenants.insertTenant(tx, {
          id: tenantId,
          slug,
          name: 'u',
          monthlyTokenBudget: null,
          requestsPerMinute: null,
        }),
      );
    await insert(id);
    const error = await insert(newId()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseStatementError);
    expect((error as DatabaseStatementError).code).toBe('23505');
    const calls = api.calls.map((c) => c.operation);
    expect(calls.at(-1)).toBe('RollbackTransaction');
  });

  it('when the cluster is resuming from auto-pause then calls are retried until it answers', async () => {
    api.pause(2);
    const rows = await db.withSystem((tx) => tx.query<{ one: number }>(sql`select 1::int as one`));
    expect(rows).toEqual([{ one: 1 }]);
  });

  it('when the cluster does not resume within the budget then the request fails as 503 with Retry-After', async () => {
    api.pause(1_000);
    const error = await connect(1_200)
      .withSystem((tx) => tx.query(sql`select 1`))
      .catch((e: unknown) => e);
    api.pause(0);
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect((error as ServiceUnavailableError).status).toBe(503);
    expect((error as ServiceUnavailableError).retryAfterSeconds).toBeGreaterThan(0);
  });

  it('when a result exceeds the Data API response limit then the error says the query must be paged', async () => {
    const error = await db
      .withSystem((tx) =>
        tx.query(sql`select repeat('x', 1000) as filler from generate_series(1, ${2000}::int)`),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseStatementError);
    expect((error as Error).message).toContain('must be paged');
  });

  it('when values of every kind round-trip then arrays, json, booleans, numbers, nulls and dates keep their JS types', async () => {
    const when = new Date('2026-12-06T18:00:00.123Z');
    const [row] = await db.withSystem((tx) =>
      tx.query<
        Record<string, unknown>
      >(sql`select ${['a', 'b "c"', 'd,e']}::text[] as tags, ${{ k: [1, 'two'] }}::jsonb as meta,
        ${true}::bool as flag, ${42}::int as n, ${0.5}::float8 as x, ${null}::text as nothing, ${when}::timestamptz as at`),
    );
    expect(row).toEqual({
      tags: ['a', 'b "c"', 'd,e'],
      meta: { k: [1, 'two'] },
      flag: true,
      n: 42,
      x: 0.5,
      nothing: null,
      at: when,
    });
  });

  it('when the migrate function runs with the Data API driver then it migrates through the Data API, reading no secret itself', async () => {
    const fresh = `t_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create schema ${fresh}`);
    try {
      const env = {
        DATABASE_DRIVER: 'data-api',
        DATABASE_CLUSTER_ARN: api.resourceArn,
        DATABASE_SECRET_ARN: api.secretArn,
        DATABASE_NAME: api.database,
        DATABASE_SCHEMA: fresh,
        // The bundle ships the .sql files beside the handler; from source they stay in shared/db.
        MIGRATIONS_DIR: DEFAULT_MIGRATIONS_DIR,
        AWS_ENDPOINT_URL_RDS_DATA: api.url,
        // Secrets Manager is unreachable: a read of the secret would fail the run.
        AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:9',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'stand-in-secret',
      };
      for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
      vi.spyOn(console, 'log').mockImplementation(() => {});
      const { handler } = await import('#functions/migrate/handler.ts');
      const outcome = await handler();
      expect(outcome).toMatchObject({ status: 'migrated', alreadyApplied: 0 });
      expect(outcome.applied).toContain('001_init.sql');
      const [row] = await admin.unsafe(`select count(*)::int as n from ${fresh}.schema_migrations`);
      expect(row?.n).toBe(outcome.applied?.length);
    } finally {
      vi.unstubAllEnvs();
      vi.restoreAllMocks();
      await admin.unsafe(`drop schema ${fresh} cascade`);
      await admin.end();
    }
  });
});
