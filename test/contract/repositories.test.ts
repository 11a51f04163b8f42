import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiToken } from '#shared/auth/api-token.ts';
import { sql } from '#shared/db/sql.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import { asTenantId, newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as tokens from '#shared/repositories/api-tokens.ts';
import * as bots from '#shared/repositories/bots.ts';
import * as loginAttempts from '#shared/repositories/login-attempts.ts';
import * as tenants from '#shared/repositories/tenants.ts';
import * as users from '#shared/repositories/users.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { walkPages } from '#test/fixtures/pages.ts';
import { insertTestTenant as newTenant } from '#test/fixtures/tenants.ts';

describe.each([...databaseKinds(), ...dataApiKinds()])('repository contract on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let t: TenantId;

  beforeAll(async () => {
    database = await kind.create();
    db = database.db;
    t = await newTenant(db);
  });
  afterAll(() => database.dispose());

  it('when a tenant is inserted, found, listed and updated then values round-trip with their JS types', async () => {
    const slug = `acme-${newId().slice(0, 6)}`;
    const id = newId();
    const inserted = await db.withSystem((tx) =>
      tenants.insertTenant(tx, {
        id,
        slug,
        name: 'Acme',
        monthlyTokenBudget: 1_000_000,
        requestsPerMinute: 60,
      }),
    );
    expect(inserted).toMatchObject({
      id,
      slug,
      status: 'active',
      monthlyTokenBudget: 1_000_000,
      requestsPerMinute: 60,
    });
    expect(inserted.createdAt).toBeInstanceOf(Date);
    expect(await db.withSystem((tx) => tenants.findTenantBySlug(tx, slug))).toEqual(inserted);
    expect(await db.withSystem((tx) => tenants.findTenantById(tx, newId()))).toBeNull();

    const updated = await db.withSystem((tx) =>
      tenants.updateTenant(tx, id, { status: 'suspended', monthlyTokenBudget: null, name: undefined }),
    );
    expect(updated).toMatchObject({
      name: 'Acme',
      status: 'suspended',
      monthlyTokenBudget: null,
      requestsPerMinute: 60,
    });
    expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(inserted.updatedAt.getTime());
    const renamed = await db.withSystem((tx) =>
      tenants.updateTenant(tx, id, { name: 'Acme Ltd', requestsPerMinute: 120 }),
    );
    expect(renamed).toMatchObject({ name: 'Acme Ltd', status: 'suspended', requestsPerMinute: 120 });
    expect(await db.withSystem((tx) => tenants.updateTenant(tx, newId(), { name: 'x' }))).toBeNull();
    // The app role sees its own tenant row only.
    expect(await db.withTenant(asTenantId(id), (tx) => tenants.findTenantById(tx, id))).toMatchObject({ id });
    expect(await db.withTenant(t, (tx) => tenants.findTenantById(tx, id))).toBeNull();
  });

  it('when tenants are listed then pages of the asked size cover them all, and every tenant id is listed in order', async () => {
    const made = [await newTenant(db), await newTenant(db), await newTenant(db)];
    const seen = await walkPages((cursor) =>
      db.withSystem((tx) => tenants.listTenants(tx, { limit: 2, cursor })),
    );
    expect(seen).toEqual(expect.arrayContaining(made));
    const first = await db.withSystem((tx) => tenants.listTenants(tx, { limit: 2 }));
    expect(first.data).toHaveLength(2);
    const ids = await db.withSystem((tx) => tenants.listTenantIds(tx));
    expect(ids).toEqual(expect.arrayContaining(made));
    expect(ids).toEqual([...ids].sort());
  });

  it("when a user's credentials are looked up by id then the password hash comes with them, for that tenant only", async () => {
    const id = newId();
    await db.withTenant(t, (tx) =>
      users.insertUser(tx, t, {
        id,
        email: `${id}@x.test`,
        name: 'N',
        role: 'admin',
        passwordHash: 'scrypt$k',
      }),
    );
    expect(await db.withTenant(t, (tx) => users.findUserCredentialsById(tx, t, id))).toMatchObject({
      id,
      tenantId: t,
      role: 'admin',
      passwordHash: 'scrypt$k',
    });
    expect(await db.withTenant(t, (tx) => users.findUserCredentialsById(tx, t, newId()))).toBeNull();
    const other = await newTenant(db);
    expect(await db.withTenant(other, (tx) => users.findUserCredentialsById(tx, other, id))).toBeNull();
    expect(await db.withTenant(t, (tx) => users.findUserCredentialsById(tx, other, id))).toBeNull();
  });

  it("when API tokens are listed then pages of the asked size cover the tenant's tokens and no other tenant's", async () => {
    const tenant = await newTenant(db);
    const other = await newTenant(db);
    const insert = (owner: TenantId) => {
      const g = generateApiToken();
      return db.withTenant(owner, (tx) =>
        tokens.insertApiToken(tx, owner, {
          id: newId(),
          userId: null,
          name: 'list',
          prefix: g.displayPrefix,
          hash: g.hash,
          scopes: ['read'],
          role: 'member',
          isServiceAccount: true,
          expiresAt: null,
        }),
      );
    };
    const made = [(await insert(tenant)).id, (await insert(tenant)).id, (await insert(tenant)).id];
    await insert(other);
    const first = await db.withTenant(tenant, (tx) => tokens.listApiTokens(tx, tenant, { limit: 2 }));
    expect(first.data).toHaveLength(2);
    const seen = await walkPages((cursor) =>
      db.withTenant(tenant, (tx) => tokens.listApiTokens(tx, tenant, { limit: 2, cursor })),
    );
    expect([...seen].sort()).toEqual([...made].sort());
  });

  it('when users are inserted, found, changed, counted and deleted then the repository answers consistently', async () => {
    const owner = {
      id: newId(),
      email: 'owner@x.test',
      name: null,
      role: 'owner' as const,
      passwordHash: 'scrypt$h',
    };
    const inserted = await db.withTenant(t, (tx) => users.insertUser(tx, t, owner));
    expect(inserted).toMatchObject({
      id: owner.id,
      tenantId: t,
      email: 'owner@x.test',
      name: null,
      role: 'owner',
    });
    expect(inserted).not.toHaveProperty('passwordHash');
    expect(inserted.createdAt).toBeInstanceOf(Date);

    const creds = await db.withTenant(t, (tx) => users.findUserCredentials(tx, t, 'owner@x.test'));
    expect(creds).toMatchObject({ passwordHash: 'scrypt$h' });

    // Failed sign-ins are counted by a hash of (tenant slug, email), account or not.
    const key = loginAttempts.loginAttemptKey('Acme', 'Owner@X.test');
    expect(key).toBe(loginAttempts.loginAttemptKey('acme', 'owner@x.test'));
    // Pinned: a different hash would silently reset every count in flight.
    expect(key).toBe(createHash('sha256').update('acme\nowner@x.test').digest('hex'));
    expect(key).not.toContain('owner');
    // Each attempt is charged before the password check; at the limit the pair is locked out until the
    // last failure is lockoutSeconds old, then charged again; a success clears the count.
    const limits = { maxFailures: 2, lockoutSeconds: 300 };
    const at = new Date('2026-03-01T12:00:00.000Z');
    const later = (s: number) => new Date(at.getTime() + s * 1000);
    const charge = (when: Date) =>
      db.withSystem((tx) => loginAttempts.chargeLoginAttempt(tx, key, when, limits));
    expect(await charge(at)).toEqual({ charged: true });
    expect(await charge(later(1))).toEqual({ charged: true });
    expect(await charge(later(2))).toEqual({ charged: false, lockedUntil: later(301) });
    expect(await charge(later(300))).toEqual({ charged: false, lockedUntil: later(301) });
    expect(await charge(later(301))).toEqual({ charged: true });
    expect(await charge(later(302))).toEqual({ charged: false, lockedUntil: later(601) });
    await db.withSystem((tx) => loginAttempts.clearLoginFailures(tx, key));
    expect(await charge(later(303))).toEqual({ charged: true });

    const count = await db.withTenant(t, (tx) => users.countOwners(tx, t));
    expect(count).toBe(1);
    expect(typeof count).toBe('number');

    const renamed = await db.withTenant(t, (tx) =>
      users.updateUser(tx, t, owner.id, { name: 'Olga', role: undefined }),
    );
    expect(renamed).toMatchObject({ name: 'Olga', role: 'owner' });
    const cleared = await db.withTenant(t, (tx) => users.updateUser(tx, t, owner.id, { name: null }));
    expect(cleared?.name).toBeNull();
    expect(await db.withTenant(t, (tx) => users.deleteUser(tx, t, owner.id))).toBe(true);
    expect(await db.withTenant(t, (tx) => users.deleteUser(tx, t, owner.id))).toBe(false);
    expect(await db.withTenant(t, (tx) => users.findUser(tx, t, owner.id))).toBeNull();
  });

  it('when a sign-in key has been idle for more than a day then any later attempt drops it, and its count starts again', async () => {
    const idle = loginAttempts.loginAttemptKey(`idle-${newId()}`, 'a@x.test');
    const recent = loginAttempts.loginAttemptKey(`recent-${newId()}`, 'a@x.test');
    const other = loginAttempts.loginAttemptKey(`other-${newId()}`, 'a@x.test');
    const limits = { maxFailures: 5, lockoutSeconds: 60 };
    const at = new Date('2026-04-01T00:00:00.000Z');
    const dayLater = (ms: number) => new Date(at.getTime() + 86_400_000 + ms);
    const failures = async (key: string) => {
      const rows = await db.withSystem((tx) =>
        tx.query<{ failures: number }>(sql`select failures from login_attempts where key = ${key}`),
      );
      return rows[0]?.failures ?? 0;
    };
    for (const key of [idle, idle, recent, recent])
      await db.withSystem((tx) => loginAttempts.chargeLoginAttempt(tx, key, at, limits));
    await db.withSystem((tx) =>
      loginAttempts.chargeLoginAttempt(tx, recent, new Date(at.getTime() + 1000), limits),
    );
    // Exactly a day idle stays; the cleanup runs on any key's attempt.
    await db.withSystem((tx) => loginAttempts.chargeLoginAttempt(tx, other, dayLater(0), limits));
    expect(await failures(idle)).toBe(2);
    await db.withSystem((tx) => loginAttempts.chargeLoginAttempt(tx, other, dayLater(1), limits));
    expect(await failures(idle)).toBe(0);
    expect(await failures(recent)).toBe(3);
    expect(await failures(other)).toBe(2);
    // A dropped key counts from one again.
    await db.withSystem((tx) => loginAttempts.chargeLoginAttempt(tx, idle, dayLater(2), limits));
    expect(await failures(idle)).toBe(1);
  });

  it('when an API token is inserted then scopes come back as an array and it is found only by its hash', async () => {
    const generated = generateApiToken();
    const expiresAt = new Date(Date.now() + 3_600_000);
    const token = await db.withTenant(t, (tx) =>
      tokens.insertApiToken(tx, t, {
        id: newId(),
        userId: null,
        name: 'ci',
        prefix: generated.displayPrefix,
        hash: generated.hash,
        scopes: ['read', 'chat'],
        role: 'member',
        isServiceAccount: true,
        expiresAt,
      }),
    );
    expect(token).toMatchObject({
      scopes: ['read', 'chat'],
      isServiceAccount: true,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(Array.isArray(token.scopes)).toBe(true);
    expect(token.expiresAt).toEqual(expiresAt);
    expect(token).not.toHaveProperty('hash');

    const byHash = await db.withSettings({ 'app.token_hash': generated.hash }, (tx) =>
      tokens.findApiTokenByHash(tx, generated.hash),
    );
    expect(byHash).toEqual(token);
    await db.withTenant(t, (tx) => tokens.touchApiToken(tx, t, token.id));
    expect(await db.withTenant(t, (tx) => tokens.revokeApiToken(tx, t, token.id))).toBe(true);
    const found = await db.withTenant(t, (tx) => tokens.findApiToken(tx, t, token.id));
    expect(found?.revokedAt).toBeInstanceOf(Date);
    expect(found?.lastUsedAt).toBeInstanceOf(Date);
    expect(await db.withTenant(t, (tx) => tokens.revokeApiToken(tx, t, newId()))).toBe(false);
  });

  it('when a bot is inserted and updated then jsonb comes back as objects, reals as numbers, and null clears', async () => {
    const id = newId();
    const envelope = {
      v: 1,
      keyId: 'local:abcd1234',
      encryptedDataKey: 'AAAA',
      iv: 'BBBB',
      tag: 'CCCC',
      ciphertext: 'DDDD',
    };
    const bot = await db.withTenant(t, (tx) =>
      bots.insertBot(tx, t, id, {
        name: 'b',
        provider: 'openai',
        model: 'gpt-4o-mini',
        temperature: 0.7,
        retrieval: { topK: 4, scoreThreshold: 0.25, tags: ['a', 'b'], queryExpansion: true },
        credentials: { envelope, last4: 'WXYZ' },
      }),
    );
    expect(bot).toMatchObject({
      temperature: 0.7,
      retrieval: { topK: 4, scoreThreshold: 0.25, tags: ['a', 'b'], queryExpansion: true },
    });
    expect(bot).toMatchObject({
      hasCredentials: true,
      credentialsLast4: 'WXYZ',
      baseUrl: null,
      maxOutputTokens: null,
    });
    expect(await db.withTenant(t, (tx) => bots.findBotCredentials(tx, t, id))).toEqual(envelope);

    const changed = await db.withTenant(t, (tx) =>
      bots.updateBot(tx, t, id, {
        model: undefined,
        temperature: null,
        credentials: null,
        retrieval: { topK: 2, scoreThreshold: null, tags: [], queryExpansion: false },
      }),
    );
    expect(changed).toMatchObject({
      model: 'gpt-4o-mini',
      temperature: null,
      hasCredentials: false,
      credentialsLast4: null,
    });
    expect(changed?.retrieval).toEqual({ topK: 2, scoreThreshold: null, tags: [], queryExpansion: false });
    expect(await db.withTenant(t, (tx) => bots.findBotCredentials(tx, t, id))).toBeNull();
    expect(await db.withTenant(t, (tx) => bots.updateBot(tx, t, newId(), { name: 'x' }))).toBeNull();
    expect(await db.withTenant(t, (tx) => bots.deleteBot(tx, t, id))).toBe(true);
    expect(await db.withTenant(t, (tx) => bots.findBot(tx, t, id))).toBeNull();
  });

  it('when rows share one created_at (one transaction) then pages split them by id without loss or repeats', async () => {
    const tenant = await newTenant(db);
    const made = await db.withTenant(tenant, async (tx) => {
      const ids: string[] = [];
      for (let i = 0; i < 11; i++)
        ids.push((await bots.insertBot(tx, tenant, newId(), { name: `b${i}` })).id);
      return ids;
    });
    const seen = await walkPages((cursor) =>
      db.withTenant(tenant, (tx) => bots.listBots(tx, tenant, { limit: 3, cursor })),
    );
    expect(seen).toEqual([...made].sort());
  });

  it('when rows are made in separate transactions then every page walk sees each exactly once, in list order', async () => {
    const tenant = await newTenant(db);
    const made: string[] = [];
    for (let i = 0; i < 10; i++) {
      const user = {
        id: newId(),
        email: `u${i}@x.test`,
        name: null,
        role: 'member' as const,
        passwordHash: null,
      };
      made.push((await db.withTenant(tenant, (tx) => users.insertUser(tx, tenant, user))).id);
    }
    // Rows made in the same millisecond tie on created_at and are ordered by id: compare with one big page.
    const onePage = await db.withTenant(tenant, (tx) => users.listUsers(tx, tenant, { limit: 100 }));
    expect(new Set(onePage.data.map((u) => u.id))).toEqual(new Set(made));
    for (const limit of [1, 3, 10, 11]) {
      const seen = await walkPages((cursor) =>
        db.withTenant(tenant, (tx) => users.listUsers(tx, tenant, { limit, cursor })),
      );
      expect(seen, `limit ${limit}`).toEqual(onePage.data.map((u) => u.id));
    }
  });

  it('when a cursor is not one the repository made then ValidationError, before any SQL runs', async () => {
    const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of [
      'garbage',
      forged({ createdAt: 'yesterday', id: newId() }),
      forged({ createdAt: new Date().toISOString(), id: '1' }),
    ]) {
      await expect(
        db.withTenant(t, (tx) => users.listUsers(tx, t, { limit: 5, cursor })),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        db.withSystem((tx) => tenants.listTenants(tx, { limit: 5, cursor })),
      ).rejects.toBeInstanceOf(ValidationError);
    }
  });
});
