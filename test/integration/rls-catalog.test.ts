import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '#shared/db/scope-statement.ts';
import { sql } from '#shared/db/sql.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import { databaseKinds, TEST_LOGIN_ROLE, type TestDatabase } from '#test/fixtures/databases.ts';

/**
 * The schema as the catalog describes it, so that a table or a migration cannot quietly weaken row-level
 * security: every table with a `tenant_id` column is tenant-owned unless it is one of the documented
 * exceptions below (docs/architecture.md, "Tenant isolation in the database"), and a tenant-owned table
 * must have RLS enabled AND forced, and exactly the tenant policy.
 */

/** The tenant policy every tenant-owned table has, as PostgreSQL prints its expressions. */
const TENANT_POLICY = {
  policyname: 'tenant_isolation',
  permissive: 'PERMISSIVE',
  cmd: 'ALL',
  qual: '(tenant_id = app_current_tenant())',
  with_check: '(tenant_id = app_current_tenant())',
};

/** Tables that are not (or not only) guarded by the tenant policy, and what they have instead. */
const DOCUMENTED_EXCEPTIONS: Record<
  string,
  { enabled: boolean; forced: boolean; policies: Partial<typeof TENANT_POLICY>[] }
> = {
  // Platform table: the app role sees only its own tenant row; the admin acts as the owner.
  tenants: {
    enabled: true,
    forced: false,
    policies: [{ policyname: 'tenant_self', cmd: 'ALL', qual: '(id = app_current_tenant())' }],
  },
  // The local queue: the app role may only enqueue for itself; the worker claims as the owner.
  jobs: {
    enabled: true,
    forced: false,
    policies: [
      {
        policyname: 'tenant_enqueue',
        cmd: 'INSERT',
        qual: undefined,
        with_check: '(tenant_id = app_current_tenant())',
      },
    ],
  },
  // Sign-in failures, before any tenant is known: the owner only, the app role has no grant.
  login_attempts: { enabled: true, forced: false, policies: [] },
  // Migrations' bookkeeping: the owner only.
  schema_migrations: { enabled: false, forced: false, policies: [] },
  // Tenant-owned and forced, plus one row readable by whoever holds the token (its hash).
  api_tokens: {
    enabled: true,
    forced: true,
    policies: [
      TENANT_POLICY,
      {
        policyname: 'token_by_hash',
        cmd: 'SELECT',
        qual: "(token_hash = NULLIF(current_setting('app.token_hash'::text, true), ''::text))",
        with_check: undefined,
      },
    ],
  },
  // The same for a website's publishable key: holding the key makes exactly its row readable.
  publishable_keys: {
    enabled: true,
    forced: true,
    policies: [
      TENANT_POLICY,
      {
        policyname: 'key_by_hash',
        cmd: 'SELECT',
        qual: "(key_hash = NULLIF(current_setting('app.publishable_key_hash'::text, true), ''::text))",
        with_check: undefined,
      },
    ],
  },
};

interface TableRow {
  name: string;
  has_tenant_id: boolean;
  enabled: boolean;
  forced: boolean;
  owner: string;
}
interface PolicyRow {
  tablename: string;
  policyname: string;
  permissive: string;
  cmd: string;
  qual: string | null;
  with_check: string | null;
}

describe.each(databaseKinds())('row-level security in the catalog ($name)', (kind) => {
  let database: TestDatabase;
  let tables: TableRow[];
  let policies: PolicyRow[];

  beforeAll(async () => {
    database = await kind.create();
    // pgvector makes its table on first use: make it, so it is inspected too.
    await database.vectorStore.ensureSpace({ provider: 'catalog', model: 'm', dimensions: 3 });
    tables = await database.db.withSystem((tx) =>
      tx.query<TableRow>(sql`
        select c.relname as name, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
               pg_get_userbyid(c.relowner) as owner,
               exists (select 1 from pg_attribute a
                       where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped) as has_tenant_id
        from pg_class c
        where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
        order by c.relname`),
    );
    policies = await database.db.withSystem((tx) =>
      tx.query<PolicyRow>(sql`
        select tablename, policyname, permissive, cmd, qual, with_check
        from pg_policies where schemaname = current_schema() order by tablename, policyname`),
    );
  });
  afterAll(() => database.dispose());

  const tenantOwned = () => tables.filter((t) => t.has_tenant_id && !(t.name in DOCUMENTED_EXCEPTIONS));

  it('when the schema is read then every table is tenant-owned or a documented exception', () => {
    expect(tenantOwned().map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'users',
        'bot_profiles',
        'sources',
        'chunks',
        'chats',
        'messages',
        'usage_events',
      ]),
    );
    const unclassified = tables.filter((t) => !t.has_tenant_id && !(t.name in DOCUMENTED_EXCEPTIONS));
    expect(unclassified.map((t) => t.name)).toEqual([]);
  });

  it('when a table has a tenant_id then row-level security is enabled AND forced on it', () => {
    const weak = tenantOwned()
      .filter((t) => !t.enabled || !t.forced)
      .map((t) => `${t.name}: enabled=${t.enabled} forced=${t.forced}`);
    expect(weak).toEqual([]);
  });

  it('when a table has a tenant_id then its only policy is the tenant policy', () => {
    for (const table of tenantOwned()) {
      const own = policies.filter((p) => p.tablename === table.name);
      expect(
        own.map(({ tablename, ...p }) => p),
        table.name,
      ).toEqual([TENANT_POLICY]);
    }
  });

  it('when a documented exception is read then it has exactly the documented protection', () => {
    for (const [name, expected] of Object.entries(DOCUMENTED_EXCEPTIONS)) {
      const table = tables.find((t) => t.name === name);
      expect(table, name).toBeDefined();
      expect({ enabled: table?.enabled, forced: table?.forced }, name).toEqual({
        enabled: expected.enabled,
        forced: expected.forced,
      });
      const own = policies.filter((p) => p.tablename === name);
      expect(own, name).toHaveLength(expected.policies.length);
      for (const policy of expected.policies) {
        const found = own.find((p) => p.policyname === policy.policyname);
        expect(found, `${name}.${policy.policyname}`).toMatchObject(
          Object.fromEntries(Object.entries(policy).map(([k, v]) => [k, v ?? null])),
        );
      }
    }
  });

  it('when the roles are read then the app role is no superuser, cannot bypass RLS and owns no table', async () => {
    const [app] = await database.db.withSystem((tx) =>
      tx.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
        sql`select rolsuper, rolbypassrls from pg_roles where rolname = ${APP_ROLE}`,
      ),
    );
    expect(app).toEqual({ rolsuper: false, rolbypassrls: false });
    expect(tables.filter((t) => t.owner === APP_ROLE).map((t) => t.name)).toEqual([]);
    // A tenant transaction really runs as the app role.
    const [who] = await database.db.withTenant(asTenantId(randomUUID()), (tx) =>
      tx.query<{ current_user: string }>(sql`select current_user`),
    );
    expect(who?.current_user).toBe(APP_ROLE);
  });

  it.runIf(kind.name === 'postgres')(
    'when the suites connect to PostgreSQL then they log in as a role that is no superuser and cannot bypass RLS',
    async () => {
      const [me] = await database.db.withSystem((tx) =>
        tx.query<{ name: string; rolsuper: boolean; rolbypassrls: boolean; owns_database: boolean }>(sql`
          select r.rolname as name, r.rolsuper, r.rolbypassrls,
                 exists (select 1 from pg_database d where d.datdba = r.oid) as owns_database
          from pg_roles r where r.rolname = session_user`),
      );
      expect(me).toEqual({
        name: TEST_LOGIN_ROLE,
        rolsuper: false,
        rolbypassrls: false,
        owns_database: false,
      });
      expect(new Set(tables.map((t) => t.owner))).toEqual(new Set([TEST_LOGIN_ROLE]));
    },
  );

  // As deployed, the database user owns the tables: only FORCE makes RLS apply to it, e.g. where the owner
  // enters a tenant inside a system transaction (bot credentials, the admin creating a tenant's first rows).
  it.runIf(kind.name === 'postgres')(
    'when the owner itself reads tenant tables then forced RLS confines it to the tenant it entered, or to nothing',
    async () => {
      const tenants: TenantId[] = [asTenantId(randomUUID()), asTenantId(randomUUID())];
      for (const id of tenants) {
        await database.superuser.withSystem(async (tx) => {
          await tx.query(sql`insert into tenants (id, slug, name) values (${id}, ${id}, 'T')`);
          await tx.query(
            sql`insert into sources (id, tenant_id, title, type) values (${randomUUID()}, ${id}, 't', 'text')`,
          );
        });
      }
      const [first] = tenants;
      const seen = await database.db.withSystem(async (tx) => {
        const unscoped = await tx.query<{ tenant_id: string }>(sql`select tenant_id from sources`);
        await tx.query(sql`select set_config('app.tenant_id', ${first}, true)`);
        const scoped = await tx.query<{ tenant_id: string }>(sql`select tenant_id from sources`);
        return { unscoped: unscoped.length, scoped: scoped.map((r) => r.tenant_id) };
      });
      expect(seen).toEqual({ unscoped: 0, scoped: [first] });
    },
  );
});
