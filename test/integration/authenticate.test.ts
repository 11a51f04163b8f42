import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '#shared/auth/access-token.ts';
import { generateApiToken } from '#shared/auth/api-token.ts';
import { type AuthenticateDeps, authenticate } from '#shared/auth/authenticate.ts';
import { forgetResolvedCredentials } from '#shared/auth/credential-cache.ts';
import { compile, sql } from '#shared/db/sql.ts';
import type { Role, Scope } from '#shared/domain/auth-context.ts';
import { asTenantId, type TenantId } from '#shared/domain/ids.ts';
import type { Database, Queryable } from '#shared/ports/database.ts';
import { insertApiToken } from '#shared/repositories/api-tokens.ts';
import { insertTenant, updateTenant } from '#shared/repositories/tenants.ts';
import { deleteUser, insertUser, setUserPassword, updateUser } from '#shared/repositories/users.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';

/**
 * authenticate() directly on a database: which credential resolves to which tenant, user, role and scopes,
 * and which is refused with which status. The HTTP side (headers, routes) is in auth-tokens.test.ts.
 */
const ADMIN_TOKEN = 'platform-admin-token-0123456789abcdef';
const JWT_KEY = 'authenticate-test-signing-key-0123456789abcdef0123';

/** The database, recording the statements sent through it; `before` runs in the same transaction first. */
function recording(db: Database, before?: (text: string, tx: Queryable) => Promise<void>) {
  const statements: string[] = [];
  const wrap = (tx: Queryable): Queryable => ({
    query: async (fragment) => {
      const { text } = compile(fragment);
      statements.push(text);
      await before?.(text, tx);
      return tx.query(fragment);
    },
  });
  const recorded: Database = {
    kind: db.kind,
    close: () => db.close(),
    withTenant: (tenantId, fn) => db.withTenant(tenantId, (tx) => fn(wrap(tx))),
    withSettings: (settings, fn) => db.withSettings(settings, (tx) => fn(wrap(tx))),
    withSystem: (fn) => db.withSystem(fn),
  };
  return { db: recorded, statements };
}

describe.each(databaseKinds())('authenticate on $name', (kind) => {
  let database: TestDatabase;
  let tenant: TenantId;
  let owner: string;

  const deps = (over: Partial<AuthenticateDeps> = {}): AuthenticateDeps => ({
    db: database.db,
    adminToken: ADMIN_TOKEN,
    jwtSigningKey: JWT_KEY,
    credentialReuseMs: 0,
    ...over,
  });

  async function newTenant(): Promise<TenantId> {
    const id = asTenantId(randomUUID());
    await database.db.withSystem((tx) =>
      insertTenant(tx, {
        id,
        slug: `auth-${id}`,
        name: 'A',
        monthlyTokenBudget: null,
        requestsPerMinute: null,
      }),
    );
    return id;
  }
  async function newUser(tenantId: TenantId, role: Role): Promise<string> {
    const id = randomUUID();
    await database.db.withTenant(tenantId, (tx) =>
      insertUser(tx, tenantId, { id, email: `${id}@x.test`, name: null, role, passwordHash: null }),
    );
    return id;
  }
  async function newApiToken(
    tenantId: TenantId,
    t: {
      userId?: string | null;
      role?: Role;
      scopes?: Scope[];
      expiresAt?: Date | null;
      isServiceAccount?: boolean;
    } = {},
  ) {
    const { secret, hash, displayPrefix } = generateApiToken();
    const id = randomUUID();
    await database.db.withTenant(tenantId, (tx) =>
      insertApiToken(tx, tenantId, {
        id,
        userId: t.userId === undefined ? owner : t.userId,
        name: 'test',
        prefix: displayPrefix,
        hash,
        scopes: t.scopes ?? ['read'],
        role: t.role ?? 'owner',
        isServiceAccount: t.isServiceAccount ?? false,
        expiresAt: t.expiresAt ?? null,
      }),
    );
    return { id, secret };
  }
  const lastUsed = async (tenantId: TenantId, id: string) => {
    const [row] = await database.db.withTenant(tenantId, (tx) =>
      tx.query<{ last_used_at: Date | null }>(sql`select last_used_at from api_tokens where id = ${id}`),
    );
    return row?.last_used_at ?? null;
  };
  const jwtFor = async (
    userId: string,
    tenantId: string,
    o: { passwordVersion?: number; ttl?: number; now?: number } = {},
  ) =>
    (
      await signAccessToken(
        { userId, tenantId, role: 'owner', passwordVersion: o.passwordVersion ?? 0 },
        JWT_KEY,
        o.ttl ?? 600,
        o.now,
      )
    ).token;

  beforeAll(async () => {
    database = await kind.create();
    tenant = await newTenant();
    owner = await newUser(tenant, 'owner');
  });
  afterAll(() => database?.dispose());
  afterEach(() => forgetResolvedCredentials());

  it('when no bearer is given then 401 asking for one', async () => {
    for (const bearer of [undefined, '']) {
      await expect(authenticate(bearer, deps())).rejects.toMatchObject({
        status: 401,
        message: expect.stringContaining('Authorization: Bearer'),
      });
    }
  });

  it('when the bearer is the platform admin token exactly then it is the platform admin; a prefix or extension of it is not', async () => {
    expect(await authenticate(ADMIN_TOKEN, deps())).toEqual({ kind: 'platform-admin' });
    for (const near of [ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`, ADMIN_TOKEN.toUpperCase()]) {
      await expect(authenticate(near, deps())).rejects.toMatchObject({ status: 401 });
    }
  });

  it("when a user's API token is presented then it resolves to its tenant, user, token, role and scopes", async () => {
    const { id, secret } = await newApiToken(tenant, { role: 'admin', scopes: ['read', 'chat'] });
    expect(await authenticate(secret, deps())).toEqual({
      kind: 'tenant',
      auth: {
        tenantId: tenant,
        userId: owner,
        tokenId: id,
        isServiceAccount: false,
        role: 'admin',
        scopes: ['read', 'chat'],
      },
    });
  });

  it('when a service-account token without a user is presented then its own role and scopes stand', async () => {
    const { id, secret } = await newApiToken(tenant, {
      userId: null,
      role: 'admin',
      scopes: ['admin', 'read'],
      isServiceAccount: true,
    });
    expect(await authenticate(secret, deps())).toEqual({
      kind: 'tenant',
      auth: {
        tenantId: tenant,
        userId: undefined,
        tokenId: id,
        isServiceAccount: true,
        role: 'admin',
        scopes: ['admin', 'read'],
      },
    });
  });

  it("when a token's user now has a lower role then the token is worth that role and its scopes", async () => {
    const member = await newUser(tenant, 'member');
    const { secret } = await newApiToken(tenant, { userId: member, role: 'owner', scopes: ['admin'] });
    // `admin` stands for every scope; a member keeps the ones a member may hold.
    expect(await authenticate(secret, deps())).toMatchObject({
      auth: { role: 'member', scopes: ['sources:write', 'chat', 'read'] },
    });
    const admin = await newUser(tenant, 'admin');
    const { secret: adminToken } = await newApiToken(tenant, {
      userId: admin,
      role: 'owner',
      scopes: ['read', 'bots:write'],
    });
    expect(await authenticate(adminToken, deps())).toMatchObject({
      auth: { role: 'admin', scopes: ['read', 'bots:write'] },
    });
    // A higher role now does not raise the token.
    const { secret: memberToken } = await newApiToken(tenant, {
      userId: owner,
      role: 'member',
      scopes: ['read', 'bots:write'],
    });
    expect(await authenticate(memberToken, deps())).toMatchObject({
      auth: { role: 'member', scopes: ['read'] },
    });
    await database.db.withTenant(tenant, (tx) => updateUser(tx, tenant, admin, { role: 'member' }));
    expect(await authenticate(adminToken, deps())).toMatchObject({
      auth: { role: 'member', scopes: ['read'] },
    });
  });

  it("when a token's user was removed then the token is refused", async () => {
    const gone = await newUser(tenant, 'admin');
    const { secret } = await newApiToken(tenant, { userId: gone });
    await authenticate(secret, deps());
    await database.db.withTenant(tenant, (tx) => deleteUser(tx, tenant, gone));
    await expect(authenticate(secret, deps())).rejects.toMatchObject({ status: 401 });
  });

  it("when a token's user is removed while the token is being resolved then 401, not a failure", async () => {
    const leaving = await newUser(tenant, 'admin');
    const { secret } = await newApiToken(tenant, { userId: leaving });
    // Another request deletes the user after this one has read the token: here, in the same transaction,
    // just before the user is looked up.
    const r = recording(database.db, async (text, tx) => {
      if (/from users/.test(text)) await tx.query(sql`delete from users where id = ${leaving}`);
    });
    await expect(authenticate(secret, deps({ db: r.db }))).rejects.toMatchObject({ status: 401 });
  });

  it('when an API token expires then it passes until the instant before, and is refused from that instant', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000);
    const { secret } = await newApiToken(tenant, { expiresAt });
    const at = (ms: number) => deps({ now: () => new Date(expiresAt.getTime() + ms) });
    await expect(authenticate(secret, at(-1))).resolves.toMatchObject({ kind: 'tenant' });
    await expect(authenticate(secret, at(0))).rejects.toMatchObject({ status: 401 });
    await expect(authenticate(secret, at(1))).rejects.toMatchObject({ status: 401 });
  });

  it('when an API token is unknown or revoked then 401', async () => {
    await expect(authenticate(generateApiToken().secret, deps())).rejects.toMatchObject({ status: 401 });
    const { id, secret } = await newApiToken(tenant);
    await database.db.withTenant(tenant, (tx) =>
      tx.query(sql`update api_tokens set revoked_at = now() where id = ${id}`),
    );
    await expect(authenticate(secret, deps())).rejects.toMatchObject({ status: 401 });
  });

  it('when a token is used then its last use is recorded at most once a minute', async () => {
    const { id, secret } = await newApiToken(tenant);
    const r = recording(database.db);
    const touches = () => r.statements.filter((s) => /update api_tokens set last_used_at/.test(s)).length;
    await authenticate(secret, deps({ db: r.db }));
    expect(touches()).toBe(1);
    const first = await lastUsed(tenant, id);
    expect(first).toBeInstanceOf(Date);
    const later = (ms: number) => deps({ db: r.db, now: () => new Date(first!.getTime() + ms) });
    await authenticate(secret, later(60_000));
    expect(touches()).toBe(1);
    await authenticate(secret, later(60_001));
    expect(touches()).toBe(2);
  });

  it("when the tenant is suspended then its API tokens and users' access tokens get 403; unknown tenants 401", async () => {
    const suspended = await newTenant();
    const user = await newUser(suspended, 'owner');
    const { secret } = await newApiToken(suspended, { userId: user });
    const jwt = await jwtFor(user, suspended);
    await database.db.withSystem((tx) => updateTenant(tx, suspended, { status: 'suspended' }));
    for (const bearer of [secret, jwt]) {
      await expect(authenticate(bearer, deps())).rejects.toMatchObject({
        status: 403,
        message: expect.stringContaining('suspended'),
      });
    }
    await database.db.withSystem((tx) => updateTenant(tx, suspended, { status: 'active' }));
    await expect(authenticate(jwt, deps())).resolves.toMatchObject({ kind: 'tenant' });
    await expect(authenticate(await jwtFor(randomUUID(), randomUUID()), deps())).rejects.toMatchObject({
      status: 401,
    });
  });

  it("when a user's access token is presented then it resolves to the user's current role and its scopes", async () => {
    const admin = await newUser(tenant, 'admin');
    expect(await authenticate(await jwtFor(admin, tenant), deps())).toEqual({
      kind: 'tenant',
      auth: {
        tenantId: tenant,
        userId: admin,
        tokenId: undefined,
        isServiceAccount: false,
        role: 'admin',
        scopes: ['admin', 'bots:write', 'sources:write', 'chat', 'read'],
      },
    });
  });

  it('when an access token names no UUIDs, an unknown user, or an old password version then 401', async () => {
    for (const [user, tid] of [
      ['not-a-uuid', tenant],
      [owner, 'not-a-uuid'],
      [randomUUID(), tenant],
    ] as const) {
      await expect(authenticate(await jwtFor(user, tid), deps())).rejects.toMatchObject({ status: 401 });
    }
    const user = await newUser(tenant, 'member');
    const before = await jwtFor(user, tenant, { passwordVersion: 0 });
    await expect(authenticate(before, deps())).resolves.toMatchObject({ kind: 'tenant' });
    await database.db.withTenant(tenant, (tx) =>
      setUserPassword(tx, tenant, user, { passwordHash: 'x', changedBy: null }),
    );
    await expect(authenticate(before, deps())).rejects.toMatchObject({ status: 401 });
    await expect(
      authenticate(await jwtFor(user, tenant, { passwordVersion: 1 }), deps()),
    ).resolves.toMatchObject({ auth: { userId: user } });
  });

  it('when reuse is allowed then a resolved credential is reused without the database, never past its own expiry', async () => {
    const r = recording(database.db);
    const { secret } = await newApiToken(tenant, { expiresAt: new Date(Date.now() + 3_600_000) });
    const start = Date.now();
    const at = (ms: number, reuse = 5_000) =>
      deps({ db: r.db, now: () => new Date(start + ms), credentialReuseMs: reuse });
    await authenticate(secret, at(0));
    const asked = r.statements.length;
    await authenticate(secret, at(4_999));
    expect(r.statements.length).toBe(asked);
    await authenticate(secret, at(5_000));
    expect(r.statements.length).toBeGreaterThan(asked);

    // An access token 2 s from its expiry is reused for those 2 s, not 5. (Its signature check reads the
    // real clock, on which it is valid for 10 minutes.)
    const nowSeconds = Math.floor(Date.now() / 1000);
    const jwt = await jwtFor(owner, tenant, { ttl: 600, now: nowSeconds });
    const expiry = (nowSeconds + 600) * 1000;
    const jwtAt = (ms: number) =>
      deps({ db: r.db, now: () => new Date(expiry - 2_000 + ms), credentialReuseMs: 5_000 });
    await authenticate(jwt, jwtAt(0));
    const before = r.statements.length;
    await authenticate(jwt, jwtAt(1_999));
    expect(r.statements.length).toBe(before);
    await authenticate(jwt, jwtAt(2_000));
    expect(r.statements.length).toBeGreaterThan(before);
  });

  it('when reuse is 0 then every request asks the database', async () => {
    const r = recording(database.db);
    const { secret } = await newApiToken(tenant);
    await authenticate(secret, deps({ db: r.db }));
    const once = r.statements.length;
    await authenticate(secret, deps({ db: r.db }));
    expect(r.statements.length).toBeGreaterThan(once);
  });
});
