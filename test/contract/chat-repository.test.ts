import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import type { Database } from '#shared/ports/database.ts';
import * as bots from '#shared/repositories/bots.ts';
import * as chats from '#shared/repositories/chats.ts';
import { databaseKinds, type TestDatabase } from '#test/fixtures/databases.ts';
import { type TwoTenants, useTwoTenants } from '#test/fixtures/tenants.ts';

/**
 * The chats repository: listing pages, a message moving its chat's update time, messages in the order they
 * were written, and finding one message.
 */

describe.each(databaseKinds())('chats repository on $name', (kind) => {
  let database: TestDatabase;
  let db: Database;
  let a: TenantId;
  let b: TenantId;
  let asA: TwoTenants['asA'];
  let bot: string;
  useTwoTenants(kind, (made) => ({ database, db, a, b, asA } = made));
  beforeAll(async () => {
    bot = newId();
    await db.withTenant(a, (tx) => bots.insertBot(tx, a, bot, { name: 'chat' }));
  });

  const newChat = () =>
    asA((tx) => chats.insertChat(tx, a, { id: newId(), botId: bot, userId: null, title: null }));
  const message = (chatId: string) => ({
    id: newId(),
    chatId,
    role: 'user' as const,
    content: 'hello',
    citations: [],
    status: 'complete' as const,
    inputTokens: 1,
    outputTokens: 2,
  });

  it("when a bot's chats are listed then pages of the asked size cover them all", async () => {
    const made = [(await newChat()).id, (await newChat()).id, (await newChat()).id];
    const first = await asA((tx) => chats.listChats(tx, a, { botId: bot }, { limit: 2 }));
    expect(first.data).toHaveLength(2);
    expect(first.nextCursor).not.toBeNull();
    const second = await asA((tx) =>
      chats.listChats(tx, a, { botId: bot }, { limit: 2, cursor: first.nextCursor ?? undefined }),
    );
    expect([...first.data, ...second.data].map((c) => c.id)).toEqual(expect.arrayContaining(made));
  });

  it("when a message is added then its chat's update time moves on", async () => {
    const chat = await newChat();
    await sleep(20);
    await asA((tx) => chats.insertMessage(tx, a, message(chat.id)));
    const after = await asA((tx) => chats.findChat(tx, a, chat.id));
    expect(after!.updatedAt.getTime()).toBeGreaterThan(chat.updatedAt.getTime());
  });

  it('when questions and answers are saved in quick succession then the conversation lists them in that order', async () => {
    const chat = await newChat();
    // Each exchange is one transaction, as the answer path saves it; on PGlite both land in one millisecond.
    const written: string[] = [];
    for (let turn = 0; turn < 20; turn++) {
      await asA(async (tx) => {
        for (const role of ['user', 'assistant'] as const) {
          const m = { ...message(chat.id), role, content: `${role} ${turn}` };
          await chats.insertMessage(tx, a, m);
          written.push(m.content);
        }
      });
    }
    const listed = await asA((tx) => chats.listMessages(tx, a, chat.id));
    expect(listed.map((m) => m.content)).toEqual(written);
    // The latest 5 are the last 5 written, still oldest first.
    const recent = await asA((tx) => chats.listMessages(tx, a, chat.id, 5));
    expect(recent.map((m) => m.content)).toEqual(written.slice(-5));
  });

  it('when one message is looked up then it is found in its chat only, for its tenant only', async () => {
    const [chat, other] = [await newChat(), await newChat()];
    const m = message(chat.id);
    const saved = await asA((tx) => chats.insertMessage(tx, a, m));
    expect(await asA((tx) => chats.findMessage(tx, a, chat.id, m.id))).toEqual(saved);
    expect(saved).toMatchObject({ ...m, citations: [] });
    expect(await asA((tx) => chats.findMessage(tx, a, other.id, m.id))).toBeNull();
    expect(await db.withTenant(b, (tx) => chats.findMessage(tx, b, chat.id, m.id))).toBeNull();
    expect(await asA((tx) => chats.findMessage(tx, b, chat.id, m.id))).toBeNull();
  });
});
