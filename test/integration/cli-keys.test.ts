import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '#test/e2e/cli-process.ts';
import { removeDir, type ServerProcess, startServer, tempDir } from '#test/e2e/server-process.ts';
import { FAKE_OPENAI_API_KEY, type FakeOpenAi, startFakeOpenAi } from '#test/fakes/openai-server.ts';
import { DEFAULT_FAKE_REPLY } from '#test/fakes/scripted-provider-server.ts';

describe('`minirag keys rotate` on a local data directory', { timeout: 60_000 }, () => {
  let dataDir: string;
  let work: string;
  let home: string;
  let fake: FakeOpenAi;
  let server: ServerProcess | undefined;
  const serverEnv = { ALLOW_LOCAL_PROVIDER_URLS: 'true' };

  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, {
      home,
      cwd: work,
      env: { MINIRAG_DATA_DIR: dataDir, ...(server ? { MINIRAG_API_URL: server.url } : {}), ...env },
    });
  const secrets = async () => JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8'));

  beforeAll(async () => {
    dataDir = await tempDir('minirag-keys-data-');
    work = await tempDir('minirag-keys-work-');
    home = await tempDir('minirag-keys-home-');
    fake = await startFakeOpenAi();
    server = await startServer({ dataDir, env: serverEnv });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await fake?.close();
    for (const dir of [dataDir, work, home]) await removeDir(dir);
  });

  it('when the master key is replaced and credentials rotated, then the bot key still works under the new key alone', async () => {
    const created = await cli(['tenant', 'create', 'Keys Co'], {
      MINIRAG_ADMIN_TOKEN: (await secrets()).adminToken,
    });
    expect(created.code, created.stderr).toBe(0);
    const bot = await cli(
      [
        'bot',
        'create',
        '--name',
        'Fake GPT',
        '--provider',
        'openai-compatible',
        '--model',
        'fake-model',
      ].concat(['--base-url', fake.url, '--api-key-env', 'FAKE_KEY']),
      { FAKE_KEY: FAKE_OPENAI_API_KEY },
    );
    expect(bot.code, bot.stderr).toBe(0);
    const botId = /\(id ([0-9a-f-]{36})\)/.exec(bot.stdout)?.[1];
    expect(botId).toBeDefined();
    const ask = () => cli(['chat', '--bot', botId!, '--message', 'Say something']);
    expect((await ask()).stdout).toContain(DEFAULT_FAKE_REPLY);

    // The embedded database belongs to the running server: rotation refuses to open it meanwhile.
    const refused = await cli(['keys', 'rotate'], { PORT: String(server!.port) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The local server is running');

    const port = server!.port;
    expect((await server!.stop('SIGTERM')).code).toBe(0);
    server = undefined;
    const oldKey = (await secrets()).masterKey;

    const rotated = await cli(['keys', 'rotate', '--new-key', '--retire']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('1 credentials checked');
    expect(rotated.stdout).toContain('1 re-wrapped, 0 already current, 0 changed meanwhile, 0 failed');
    expect(rotated.stdout).toContain('Previous master keys retired.');
    const after = await secrets();
    expect(after.masterKey).not.toBe(oldKey);
    expect(after.previousMasterKeys).toEqual([]);

    const again = await cli(['keys', 'rotate']);
    expect(again.stdout).toContain('0 re-wrapped, 1 already current');

    // Only the new key is left in the key file, and the bot's provider key still decrypts with it.
    server = await startServer({ dataDir, port, env: serverEnv });
    const answer = await ask();
    expect(answer.code, answer.stderr).toBe(0);
    expect(answer.stdout).toContain(DEFAULT_FAKE_REPLY);
    expect(fake.requests.at(-1)?.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_API_KEY}`);
  });
});
