import { describe, expect, it } from 'vitest';
import { sql } from '#shared/db/sql.ts';
import { type BotProfile, DEFAULT_RETRIEVAL } from '#shared/domain/bot.ts';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as bots from '#shared/repositories/bots.ts';
import { dataApiKinds, databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { inListingOrder, walkPages } from '#test/fixtures/pages.ts';
import { insertTestTenant as newTenant, type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The bots repository on every database: every field stored and read back, `updateBot` changing exactly
 * the fields it is given (one at a time, and `null` clearing), a Bedrock bot's region, and each function
 * called for another tenant touching nothing — with that tenant's transaction (row-level security) and
 * with this tenant's transaction but the other tenant's id (the explicit tenant condition).
 */

const envelope = (tag: string) => ({
  v: 1,
  keyId: 'local:abcd1234',
  encryptedDataKey: `key-${tag}`,
  iv: 'iv',
  tag: 'tag',
  ciphertext: `ct-${tag}`,
});

/** A bot as stored, without the time it was last changed. */
const stable = ({ updatedAt: _, ...rest }: BotProfile) => rest;

/** A Bedrock bot with every field set (and a stored key). */
const EVERY_FIELD = {
  name: 'Support',
  provider: 'bedrock',
  model: 'anthropic.claude-3-haiku',
  baseUrl: 'https://llm.example.com/v1',
  region: 'eu-west-1',
  temperature: 0.25,
  maxOutputTokens: 700,
  maxInputTokens: 9000,
  systemPrompt: 'Be brief.',
  retrieval: {
    topK: 9,
    scoreThreshold: 0.4,
    tags: ['hr'],
    rerank: { provider: 'cohere', model: 'rerank-v3.5', topN: 3 },
    queryExpansion: true,
  },
  credentials: { envelope: envelope('1'), last4: 'ABCD' },
} satisfies bots.BotFields;

describe.each([...databaseKinds(), ...dataApiKinds()])('bots repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));

  const insert = (tenant: TenantId, fields: bots.BotFields = {}) =>
    db.withTenant(tenant, (tx) => bots.insertBot(tx, tenant, newId(), { name: 'Helpdesk', ...fields }));

  it('when a bot is inserted with every field then each comes back, and findBot returns the same', async () => {
    const id = newId();
    const bot = await asA((tx) => bots.insertBot(tx, a, id, EVERY_FIELD));
    const { credentials: _, ...stored } = EVERY_FIELD;
    expect(bot).toEqual({
      id,
      tenantId: a,
      ...stored,
      credentialsLast4: 'ABCD',
      hasCredentials: true,
      createdAt: expect.any(Date),
      updatedAt: expect.any(Date),
    });
    expect(bot).not.toHaveProperty('credentials');
    expect(await asA((tx) => bots.findBot(tx, a, id))).toEqual(bot);
    expect(await asA((tx) => bots.findBotCredentials(tx, a, id))).toEqual(envelope('1'));
  });

  it('when a bot is inserted with a name only then every other field has its default', async () => {
    const bot = await insert(a);
    expect(bot).toMatchObject({
      name: 'Helpdesk',
      provider: null,
      model: null,
      baseUrl: null,
      region: null,
      temperature: null,
      maxOutputTokens: null,
      maxInputTokens: null,
      systemPrompt: null,
      retrieval: DEFAULT_RETRIEVAL,
      credentialsLast4: null,
      hasCredentials: false,
    });
    expect(await asA((tx) => bots.findBotCredentials(tx, a, bot.id))).toBeNull();
  });

  it('when a bot that is not on Bedrock is given a region then it is not stored', async () => {
    expect((await insert(a, { provider: 'openai', region: 'eu-west-1' })).region).toBeNull();
    expect((await insert(a, { region: 'eu-west-1' })).region).toBeNull();
    expect((await insert(a, { provider: 'bedrock' })).region).toBeNull();
  });

  it('when stored retrieval settings lack a field then the default fills it in', async () => {
    const bot = await insert(a);
    await database.superuser.withSystem((tx) =>
      tx.query(sql`update bot_profiles set retrieval = '{"topK": 3}'::jsonb where id = ${bot.id}`),
    );
    expect((await asA((tx) => bots.findBot(tx, a, bot.id)))?.retrieval).toEqual({
      ...DEFAULT_RETRIEVAL,
      topK: 3,
    });
  });

  const changes: [string, bots.BotFields, Partial<BotProfile>][] = [
    ['name', { name: 'Renamed' }, { name: 'Renamed' }],
    ['model', { model: 'gpt-4.1' }, { model: 'gpt-4.1' }],
    ['model cleared', { model: null }, { model: null }],
    ['base URL', { baseUrl: 'https://other.example.com/v1' }, { baseUrl: 'https://other.example.com/v1' }],
    ['base URL cleared', { baseUrl: null }, { baseUrl: null }],
    ['temperature', { temperature: 1.5 }, { temperature: 1.5 }],
    ['temperature cleared', { temperature: null }, { temperature: null }],
    ['max output tokens', { maxOutputTokens: 64 }, { maxOutputTokens: 64 }],
    ['max output tokens cleared', { maxOutputTokens: null }, { maxOutputTokens: null }],
    ['max input tokens', { maxInputTokens: 2048 }, { maxInputTokens: 2048 }],
    ['max input tokens cleared', { maxInputTokens: null }, { maxInputTokens: null }],
    ['system prompt', { systemPrompt: 'Answer in French.' }, { systemPrompt: 'Answer in French.' }],
    ['system prompt cleared', { systemPrompt: null }, { systemPrompt: null }],
    [
      'retrieval',
      { retrieval: { topK: 2, scoreThreshold: null, tags: [], queryExpansion: false } },
      { retrieval: { topK: 2, scoreThreshold: null, tags: [], queryExpansion: false } },
    ],
    [
      'credentials',
      { credentials: { envelope: envelope('2'), last4: 'WXYZ' } },
      { credentialsLast4: 'WXYZ', hasCredentials: true },
    ],
    ['credentials cleared', { credentials: null }, { credentialsLast4: null, hasCredentials: false }],
    ['provider, to OpenAI', { provider: 'openai' }, { provider: 'openai', region: null }],
    [
      'provider, to Bedrock with a region',
      { provider: 'bedrock', region: 'ap-south-1' },
      { provider: 'bedrock', region: 'ap-south-1' },
    ],
    ['provider, to Bedrock without a region', { provider: 'bedrock' }, { provider: 'bedrock', region: null }],
    ['provider cleared', { provider: null }, { provider: null, region: null }],
    ['region without a provider (ignored)', { region: 'ap-south-1' }, {}],
    ['nothing', {}, {}],
  ];
  it.each(changes)(
    'when only the %s is updated then that changes and nothing else',
    async (_, fields, expected) => {
      const before = await insert(a, EVERY_FIELD);
      const after = await asA((tx) => bots.updateBot(tx, a, before.id, fields));
      expect(stable(after!)).toEqual({ ...stable(before), ...expected });
      expect(after!.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
      expect(await asA((tx) => bots.findBot(tx, a, before.id))).toEqual(after);
      const credentials = await asA((tx) => bots.findBotCredentials(tx, a, before.id));
      if ('credentials' in fields) {
        expect(credentials).toEqual(fields.credentials?.envelope ?? null);
      } else {
        expect(credentials).toEqual(envelope('1'));
      }
    },
  );

  it("when bots are listed then pages of the asked size cover the tenant's bots in creation order", async () => {
    const tenant = await newTenant(db);
    const inserted: BotProfile[] = [];
    for (let i = 0; i < 5; i++) inserted.push(await insert(tenant, { name: `b${i}` }));
    const times = inserted.map((bot) => bot.createdAt.getTime());
    expect(times).toEqual([...times].sort((x, y) => x - y));
    const made = inListingOrder(inserted);
    const onePage = await db.withTenant(tenant, (tx) => bots.listBots(tx, tenant, { limit: 100 }));
    expect(onePage.nextCursor).toBeNull();
    expect(onePage.data.map((x) => x.id)).toEqual(made);
    const first = await db.withTenant(tenant, (tx) => bots.listBots(tx, tenant, { limit: 2 }));
    expect(first.data.map((x) => x.id)).toEqual(made.slice(0, 2));
    expect(first.nextCursor).not.toBeNull();
    const seen = await walkPages((cursor) =>
      db.withTenant(tenant, (tx) => bots.listBots(tx, tenant, { limit: 2, cursor })),
    );
    expect(seen).toEqual(made);
  });

  it('when a bot is deleted then it is gone, and deleting it again says so', async () => {
    const bot = await insert(a);
    expect(await asA((tx) => bots.deleteBot(tx, a, bot.id))).toBe(true);
    expect(await asA((tx) => bots.findBot(tx, a, bot.id))).toBeNull();
    expect(await asA((tx) => bots.deleteBot(tx, a, bot.id))).toBe(false);
    expect(await asA((tx) => bots.updateBot(tx, a, bot.id, { name: 'x' }))).toBeNull();
  });

  it("when another tenant's id is used, by its own transaction or in this tenant's, then no bot is seen or changed", async () => {
    const bot = await insert(a, {
      provider: 'openai',
      credentials: { envelope: envelope('a'), last4: 'AAAA' },
    });
    const attempts = async (tenant: TenantId, run: typeof asA) => {
      expect(await run((tx) => bots.findBot(tx, tenant, bot.id))).toBeNull();
      expect(await run((tx) => bots.findBotCredentials(tx, tenant, bot.id))).toBeNull();
      expect(await run((tx) => bots.updateBot(tx, tenant, bot.id, { name: 'taken' }))).toBeNull();
      expect(await run((tx) => bots.updateBot(tx, tenant, bot.id, { credentials: null }))).toBeNull();
      expect(await run((tx) => bots.deleteBot(tx, tenant, bot.id))).toBe(false);
      const listed = await run((tx) => bots.listBots(tx, tenant, { limit: 100 }));
      expect(listed.data.map((x) => x.id)).not.toContain(bot.id);
    };
    await attempts(b, (fn) => db.withTenant(b, fn));
    await attempts(b, asA);
    expect(await asA((tx) => bots.findBot(tx, a, bot.id))).toEqual(bot);
    expect(await asA((tx) => bots.findBotCredentials(tx, a, bot.id))).toEqual(envelope('a'));
    const listedA = await asA((tx) => bots.listBots(tx, a, { limit: 100 }));
    expect(listedA.data.map((x) => x.id)).toContain(bot.id);
    expect(listedA.data.every((x) => x.tenantId === a)).toBe(true);
  });
});
