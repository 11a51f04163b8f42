import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '#functions/api/app.ts';
import { hashApiToken } from '#shared/auth/api-token.ts';
import { type SqlFragment, sql } from '#shared/db/sql.ts';
import type { TenantId } from '#shared/domain/ids.ts';
import type { Queryable } from '#shared/ports/database.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { testPlatform } from '#test/fixtures/platform.ts';
import {
  createTestTenant,
  mintToken,
  PLATFORM_TENANT_TABLES,
  seedEveryTable,
  TENANT_TABLES,
  type TestTenant,
  tablesWithTenantId,
  tenantSnapshot,
} from '#test/fixtures/tenants.ts';

const tables = Object.entries(TENANT_TABLES);

/** Thrown at the end of a transaction to roll it back after its assertions ran. */
class Rollback extends Error {}

const count = async (tx: Queryable, query: SqlFragment) => (await tx.query<{ n: number }>(query))[0]?.n ?? -1;
/** The PostgreSQL error code a statement fails with (42501 = insufficient privilege / RLS violation). */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'succeeded',
    (error: { code?: string }) => error.code ?? String(error),
  );

describe.each(databaseKinds())('row-level security on the Database port ($name)', (kind) => {
  let database: TestDatabase;
  let a: TestTenant;
  let b: TestTenant;

  beforeAll(async () => {
    database = await kind.create();
    const app = createApiApp(testPlatform(database));
    a = await createTestTenant(app, 'rls-a');
    b = await createTestTenant(app, 'rls-b');
    await mintToken(app, a.apiToken, { scopes: ['read'] });
    await mintToken(app, b.apiToken, { scopes: ['read'] });
    await seedEveryTable(database.db, a.id);
    await seedEveryTable(database.db, b.id);
  });
  afterAll(() => database.dispose());

  const inTenant = <T>(tenant: TenantId, fn: (tx: Queryable) => Promise<T>) =>
    database.db.withTenant(tenant, fn);
  /** Runs `fn` as tenant A and rolls everything back. */
  const tryAsA = async (fn: (tx: Queryable) => Promise<void>) => {
    const outcome = await inTenant(a.id, async (tx) => {
      await fn(tx);
      throw new Rollback();
    }).catch((error: unknown) => error);
    if (!(outcome instanceof Rollback)) throw outcome;
  };

  it('when the schema is inspected then every table with a tenant_id is covered by this suite', async () => {
    expect(await tablesWithTenantId(database.db)).toEqual(
      [...Object.keys(TENANT_TABLES), ...PLATFORM_TENANT_TABLES].sort(),
    );
  });

  it('when both tenants have rows everywhere then each tenant sees exactly its own (control)', async () => {
    for (const tenant of [a, b]) {
      await inTenant(tenant.id, async (tx) => {
        for (const [name, table] of tables) {
          const rows = await tx.query<{ tenant_id: string }>(sql`select tenant_id from ${table}`);
          expect(rows.length, name).toBeGreaterThan(0);
          expect(new Set(rows.map((r) => r.tenant_id)), name).toEqual(new Set([tenant.id]));
        }
      });
    }
  });

  it('when no tenant is set then no tenant-owned table returns a row, and tenants returns none', async () => {
    const unset: Record<string, string>[] = [{}, { 'app.tenant_id': '' }];
    for (const settings of unset) {
      await database.db.withSettings(settings, async (tx) => {
        for (const [name, table] of tables)
          expect(await count(tx, sql`select count(*)::int as n from ${table}`), name).toBe(0);
        expect(await count(tx, sql`select count(*)::int as n from tenants`)).toBe(0);
      });
    }
  });

  it("when A runs unfiltered selects, updates and deletes then B's rows are neither seen nor touched", async () => {
    const before = await tenantSnapshot(database.db, b.id);
    await tryAsA(async (tx) => {
      const bots = await tx.query<{ tenant_id: string }>(sql`select * from bot_profiles`);
      expect(bots.every((r) => r.tenant_id === a.id)).toBe(true);
      expect(await count(tx, sql`select count(*)::int as n from users where tenant_id = ${b.id}`)).toBe(0);
      expect(await count(tx, sql`select count(*)::int as n from tenants where id = ${b.id}`)).toBe(0);

      const renamed = await tx.query<{ tenant_id: string }>(
        sql`update users set name = 'x' returning tenant_id`,
      );
      expect(renamed.length).toBeGreaterThan(0);
      expect(renamed.every((r) => r.tenant_id === a.id)).toBe(true);
      for (const [name, table] of tables) {
        const deleted = await tx.query<{ tenant_id: string }>(sql`delete from ${table} returning tenant_id`);
        expect(
          deleted.every((r) => r.tenant_id === a.id),
          name,
        ).toBe(true);
      }
      expect(await count(tx, sql`select count(*)::int as n from sources`)).toBe(0);
    });
    expect(await tenantSnapshot(database.db, b.id)).toEqual(before);
  });

  it("when A inserts rows carrying B's tenant id, or moves its own rows to B, then the database refuses", async () => {
    const inserts: [string, SqlFragment][] = [
      [
        'users',
        sql`insert into users (id, tenant_id, email, role) values (${randomUUID()}, ${b.id}, 'x@b.test', 'owner')`,
      ],
      [
        'bot_profiles',
        sql`insert into bot_profiles (id, tenant_id, name) values (${randomUUID()}, ${b.id}, 'planted')`,
      ],
      [
        'sources',
        sql`insert into sources (id, tenant_id, title, type) values (${randomUUID()}, ${b.id}, 't', 'text')`,
      ],
      [
        'usage_events',
        sql`insert into usage_events (id, tenant_id, kind, provider, model)
        values (${randomUUID()}, ${b.id}, 'chat', 'p', 'm')`,
      ],
      [
        'jobs',
        sql`insert into jobs (id, tenant_id, kind, payload) values (${randomUUID()}, ${b.id}, 'ingest', '{}'::jsonb)`,
      ],
      ['users (move)', sql`update users set tenant_id = ${b.id}`],
      ['bot_profiles (move)', sql`update bot_profiles set tenant_id = ${b.id}`],
      ['usage_events (move)', sql`update usage_events set tenant_id = ${b.id}`],
    ];
    for (const [name, statement] of inserts) {
      expect(await failureOf(inTenant(a.id, (tx) => tx.query(statement))), name).toBe('42501');
    }
  });

  it('when resolving a token by its hash then exactly that one row is visible, and nothing else', async () => {
    const hash = hashApiToken(a.apiToken);
    await database.db.withSettings({ 'app.token_hash': hash }, async (tx) => {
      const rows = await tx.query<{ id: string }>(sql`select id from api_tokens`);
      expect(rows.map((r) => r.id)).toEqual([a.apiTokenId]);
      expect(await count(tx, sql`select count(*)::int as n from users`)).toBe(0);
      expect(await tx.query(sql`update api_tokens set name = 'x' returning id`)).toEqual([]);
      expect(await tx.query(sql`delete from api_tokens returning id`)).toEqual([]);
    });
    for (const other of [hashApiToken(`${a.apiToken}x`), '', '%', `${hash}' or true --`]) {
      const seen = await database.db.withSettings({ 'app.token_hash': other }, (tx) =>
        tx.query(sql`select id from api_tokens`),
      );
      expect(seen, other).toEqual([]);
    }
  });

  it('when the app role touches platform tables then it cannot read jobs or write tenants', async () => {
    const refused: [string, SqlFragment][] = [
      ['select jobs', sql`select * from jobs`],
      ['update jobs', sql`update jobs set status = 'done'`],
      ['delete jobs', sql`delete from jobs`],
      ['update tenants', sql`update tenants set status = 'active'`],
      [
        'insert tenants',
        sql`insert into tenants (id, slug, name) values (${randomUUID()}, ${`s-${randomUUID()}`}, 'n')`,
      ],
      ['delete tenants', sql`delete from tenants`],
      ['schema_migrations', sql`select * from schema_migrations`],
    ];
    for (const [name, statement] of refused) {
      expect(await failureOf(inTenant(a.id, (tx) => tx.query(statement))), name).toBe('42501');
    }
    // What it may do: enqueue a job for itself.
    const job = sql`insert into jobs (id, tenant_id, kind, payload) values (${randomUUID()}, ${a.id}, 'ingest', '{}'::jsonb)`;
    expect(await failureOf(inTenant(a.id, (tx) => tx.query(job)))).toBe('succeeded');
  });
});
