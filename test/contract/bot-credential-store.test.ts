import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile, sql } from '#shared/db/sql.ts';
import { asTenantId, newId, type TenantId } from '#shared/domain/ids.ts';
import type { CredentialStore, StoredCredentials } from '#shared/ports/credential-store.ts';
import type { Database } from '#shared/ports/database.ts';
import type { Envelope } from '#shared/ports/key-vault.ts';
import { createBotCredentialStore } from '#shared/repositories/bot-credentials-store.ts';
import * as bots from '#shared/repositories/bots.ts';
import * as tenantRows from '#shared/repositories/tenants.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';

/**
 * Key rotation's view of the bot credentials, on every database: the walk over all tenants' credential
 * envelopes in (tenant, id) order, page by page, and the compare-and-swap that rewrites one envelope, for
 * its own tenant and bot only.
 */

/** A uuid starting with `lead`: the tests choose the order of tenants and bots. */
const uuid = (lead: string) => `${lead}${newId().slice(lead.length)}`;

const envelope = (label: string): Envelope => ({
  v: 1,
  keyId: 'local:0000abcd',
  encryptedDataKey: `key-${label}`,
  iv: `iv-${label}`,
  tag: `tag-${label}`,
  ciphertext: `ciphertext-${label}`,
});

describe.each([...databaseKinds(), ...dataApiKinds()])('bot credential store on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let store: CredentialStore;

  beforeAll(async () => {
    database = await kind.create();
    db = database.db;
    store = createBotCredentialStore(db);
  });
  afterAll(() => database?.dispose());

  const newTenant = async (id: string): Promise<TenantId> => {
    const tenantId = asTenantId(id);
    await db.withSystem((tx) =>
      tenantRows.insertTenant(tx, {
        id: tenantId,
        slug: `t-${id.slice(0, 13)}`,
        name: id,
        monthlyTokenBudget: null,
        requestsPerMinute: null,
      }),
    );
    return tenantId;
  };
  const newBot = async (tenantId: TenantId, id: string, credentials: Envelope | null) => {
    await db.withTenant(tenantId, (tx) =>
      bots.insertBot(tx, tenantId, id, {
        name: `bot ${id.slice(0, 8)}`,
        provider: 'openai',
        ...(credentials ? { credentials: { envelope: credentials, last4: 'WXYZ' } } : {}),
      }),
    );
    return { tenantId, id, credentials } as StoredCredentials;
  };
  /** What is stored, seen by the superuser (no row-level security). */
  const stored = async (tenantId: string, id: string) => {
    const rows = await database.superuser.withSystem((tx) =>
      tx.query<{ credentials: Envelope | null }>(
        sql`select credentials from bot_profiles where tenant_id = ${tenantId} and id = ${id}`,
      ),
    );
    return rows.map((r) => r.credentials);
  };
  const everyCredential = () =>
    database.superuser.withSystem(async (tx) =>
      (
        await tx.query<{ tenant_id: string; id: string; credentials: Envelope }>(sql`
          select tenant_id::text, id::text, credentials from bot_profiles
          where credentials is not null order by tenant_id, id`)
      ).map((r): StoredCredentials => ({ tenantId: r.tenant_id, id: r.id, credentials: r.credentials })),
    );

  describe('listAfter', () => {
    // Tenants 1 < 2 < 3 < 4 (the update tests' tenants start with f, after all of them). Bot ids are
    // chosen so that a later tenant's bots sort before the cursor's bot: only the cursor's own tenant
    // is filtered by bot id.
    let t1: StoredCredentials[];
    let t3: StoredCredentials[];
    let t4: StoredCredentials[];
    let t2: TenantId;

    beforeAll(async () => {
      const [a, b, c, d] = await Promise.all(['1', '2', '3', '4'].map((n) => newTenant(uuid(n.repeat(8)))));
      t2 = b!;
      const t1a = await newBot(a!, uuid('1'), envelope('1a'));
      await newBot(a!, uuid('5'), null);
      const t1c = await newBot(a!, uuid('9'), envelope('1c'));
      await newBot(b!, uuid('0'), null);
      const t3a = await newBot(c!, uuid('0'), envelope('3a'));
      const t3b = await newBot(c!, uuid('4'), envelope('3b'));
      const t3c = await newBot(c!, uuid('a'), envelope('3c'));
      const t4a = await newBot(d!, uuid('2'), envelope('4a'));
      t1 = [t1a, t1c];
      t3 = [t3a, t3b, t3c];
      t4 = [t4a];
    });

    const cursorOf = (c: StoredCredentials) => ({ tenantId: c.tenantId, id: c.id });

    it('when listed from the start then tenants come in id order, bots without credentials are left out, and the limit spans tenants', async () => {
      expect(await store.listAfter(null, 4)).toEqual([...t1, t3[0], t3[1]]);
      expect(await store.listAfter(null, 2)).toEqual(t1);
      expect(await store.listAfter(null, 3)).toEqual([...t1, t3[0]]);
      expect(await store.listAfter(null, 1)).toEqual([t1[0]]);
      expect(await store.listAfter(null, 0)).toEqual([]);
      expect((await store.listAfter(null, 100)).slice(0, 6)).toEqual([...t1, ...t3, ...t4]);
    });

    it("when listed after a cursor then the cursor's tenant continues after its bot and every later tenant is listed whole", async () => {
      expect(await store.listAfter(cursorOf(t1[0]!), 3)).toEqual([t1[1], t3[0], t3[1]]);
      expect(await store.listAfter(cursorOf(t1[1]!), 2)).toEqual([t3[0], t3[1]]);
      expect(await store.listAfter(cursorOf(t3[1]!), 2)).toEqual([t3[2], t4[0]]);
      expect(await store.listAfter(cursorOf(t3[0]!), 3)).toEqual([t3[1], t3[2], t4[0]]);
      // A cursor between bots, and one in a tenant without credentials.
      expect(await store.listAfter({ tenantId: t3[0]!.tenantId, id: uuid('3') }, 1)).toEqual([t3[1]]);
      expect(await store.listAfter({ tenantId: t2, id: uuid('f') }, 4)).toEqual([...t3, ...t4]);
      expect(await store.listAfter({ tenantId: t2, id: uuid('0') }, 1)).toEqual([t3[0]]);
    });

    it('when the page is full then no later tenant is read', async () => {
      // The same database, but every statement's parameters are noted.
      const params: unknown[] = [];
      const watched = createBotCredentialStore({
        ...db,
        withSystem: (fn) =>
          db.withSystem((tx) =>
            fn({
              ...tx,
              query: (fragment) => {
                params.push(...compile(fragment).params);
                return tx.query(fragment);
              },
            }),
          ),
      });
      expect(await watched.listAfter(null, 2)).toEqual(t1);
      expect(params).toContain(t1[0]!.tenantId);
      expect(params).not.toContain(t2);
      expect(params).not.toContain(t3[0]!.tenantId);
    });

    it('when every tenant is walked page by page then each credential comes once, in order, in full pages', async () => {
      const all = await everyCredential();
      expect(all.length).toBeGreaterThanOrEqual(6);
      for (const limit of [1, 2, 3, 5]) {
        const seen: StoredCredentials[] = [];
        let cursor: { tenantId: string; id: string } | null = null;
        for (;;) {
          const page: StoredCredentials[] = await store.listAfter(cursor, limit);
          seen.push(...page);
          if (page.length < limit) break;
          expect(page).toHaveLength(limit);
          cursor = cursorOf(page.at(-1)!);
        }
        expect(seen).toEqual(all);
      }
    });
  });

  describe('update', () => {
    let tenant: TenantId;
    let other: TenantId;

    beforeAll(async () => {
      tenant = await newTenant(uuid('fffffff1'));
      other = await newTenant(uuid('fffffff2'));
    });

    it('when the stored envelope equals the old one then it is replaced and true is returned, even with its keys in another order', async () => {
      const id = uuid('f');
      const old = envelope('old');
      await newBot(tenant, id, old);
      const reordered = Object.fromEntries(Object.entries(old).reverse()) as unknown as Envelope;
      expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(old));
      expect(await store.update(tenant, id, reordered, envelope('new'))).toBe(true);
      expect(await stored(tenant, id)).toEqual([envelope('new')]);
      // The old envelope no longer matches: someone else's write wins.
      expect(await store.update(tenant, id, old, envelope('newer'))).toBe(false);
      expect(await stored(tenant, id)).toEqual([envelope('new')]);
      expect(await store.update(tenant, id, envelope('new'), envelope('newer'))).toBe(true);
      expect(await stored(tenant, id)).toEqual([envelope('newer')]);
    });

    it('when the stored envelope differs, or there is none, then nothing changes and false is returned', async () => {
      const id = uuid('f');
      await newBot(tenant, id, envelope('kept'));
      expect(await store.update(tenant, id, { ...envelope('kept'), iv: 'other' }, envelope('x'))).toBe(false);
      expect(await stored(tenant, id)).toEqual([envelope('kept')]);
      const bare = uuid('f');
      await newBot(tenant, bare, null);
      expect(await store.update(tenant, bare, envelope('kept'), envelope('x'))).toBe(false);
      expect(await stored(tenant, bare)).toEqual([null]);
      expect(await store.update(tenant, uuid('f'), envelope('kept'), envelope('x'))).toBe(false);
    });

    it('when bots share an envelope then only the one named is rewritten, and not for another tenant', async () => {
      const shared = envelope('shared');
      const [mine, sibling, theirs] = [uuid('f'), uuid('f'), uuid('f')];
      await newBot(tenant, mine, shared);
      await newBot(tenant, sibling, shared);
      await newBot(other, theirs, shared);
      // The other tenant's id with this tenant's bot, and this tenant's id with the other tenant's bot.
      expect(await store.update(other, mine, shared, envelope('x'))).toBe(false);
      expect(await store.update(tenant, theirs, shared, envelope('x'))).toBe(false);
      expect(await stored(tenant, mine)).toEqual([shared]);
      expect(await stored(other, theirs)).toEqual([shared]);
      expect(await store.update(tenant, mine, shared, envelope('mine'))).toBe(true);
      expect(await stored(tenant, mine)).toEqual([envelope('mine')]);
      expect(await stored(tenant, sibling)).toEqual([shared]);
      expect(await stored(other, theirs)).toEqual([shared]);
    });
  });
});
