import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_LINE } from '#test/e2e/cli-process.ts';
import { removeDir, type ServerProcess, startServer, tempDir } from '#test/e2e/server-process.ts';

describe('the minirag CLI (node bin/minirag.js) against a running local server', { timeout: 60_000 }, () => {
  let server: ServerProcess;
  let dataDir: string;
  let work: string;
  let adminToken: string;

  const cli = (args: string[], options: { home: string; env?: Record<string, string>; input?: string }) =>
    runCli(args, { ...options, cwd: work, env: { MINIRAG_API_URL: server.url, ...options.env } });

  beforeAll(async () => {
    dataDir = await tempDir('minirag-cli-data-');
    work = await tempDir('minirag-cli-work-');
    // No ADMIN_TOKEN: the server generates the key file, as `npm start` does.
    server = await startServer({ dataDir });
    adminToken = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')).adminToken;
    await mkdir(join(work, 'docs/nested'), { recursive: true });
    await writeFile(
      join(work, 'docs/otters.md'),
      '# Sea otters\n\nSea otters hold hands while they sleep so that they do not drift apart. ' +
        'A group of resting otters is called a raft.\n',
    );
    await writeFile(
      join(work, 'docs/nested/beavers.txt'),
      'Beavers build dams from branches and mud. Their teeth never stop growing.\n',
    );
    await writeFile(join(work, 'docs/nested/notes.xyz'), 'an unsupported extension, never uploaded');
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await removeDir(dataDir);
    await removeDir(work);
  });

  it('when an admin runs `tenant create`, then the owner token is printed once and saved 0600 in the config file', async () => {
    const home = await tempDir('minirag-cli-home-');
    const result = await cli(['tenant', 'create', 'Acme Corp', '--email', 'boss@acme.example.com'], {
      home,
      env: { MINIRAG_ADMIN_TOKEN: adminToken },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Tenant created: Acme Corp (slug acme-corp');
    expect(result.stdout).toContain('boss@acme.example.com');
    const token = /API token: (mrag_\S+)/.exec(result.stdout)?.[1];
    expect(token).toBeDefined();

    const configPath = join(home, '.config/minirag/config.json');
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.current).toBe('acme-corp');
    expect(config.profiles).toEqual({
      'acme-corp': { api_url: server.url, token, tenant: 'acme-corp', tenant_id: expect.any(String) },
    });
    expect(result.stderr).toContain("Saved as profile 'acme-corp'");

    const again = await cli(['tenant', 'create', 'Acme Corp'], {
      home,
      env: { MINIRAG_ADMIN_TOKEN: adminToken },
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("A tenant with the slug 'acme-corp' already exists. (HTTP 409)");
    expect(again.stderr).not.toMatch(STACK_LINE);
  });

  it('when `ingest` is given a folder, then supported files are ingested, others ignored, and a summary table printed', async () => {
    const home = await tempDir('minirag-cli-home-');
    // Zero-config: no token anywhere, so the CLI makes a "local" tenant with the admin token from the key file.
    const result = await cli(['ingest', 'docs'], { home, env: { MINIRAG_DATA_DIR: dataDir } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("Created tenant 'local'");
    expect(result.stderr).toContain('Ignored 1 file(s) with unsupported extensions: nested/notes.xyz');
    expect(result.stdout).toMatch(/otters\.md\s*│ COMPLETED\s*│ \d+/);
    expect(result.stdout).toMatch(/nested\/beavers\.txt\s*│ COMPLETED\s*│ \d+/);
    expect(result.stdout).not.toContain('notes.xyz');
    expect(result.stdout).toContain('Summary: 2 completed, 0 already ingested, 0 failed');

    // The same folder again: nothing stored twice.
    const again = await cli(['ingest', 'docs'], { home });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Summary: 0 completed, 2 already ingested, 0 failed');

    // One-shot chat: a streamed answer, then numbered sources with their titles.
    const chat = await cli(['chat', '--message', 'Why do sea otters hold hands?'], { home });
    expect(chat.code, chat.stderr).toBe(0);
    expect(chat.stdout).toContain('hold hands while they sleep');
    expect(chat.stdout).toMatch(/\[1\]/);
    expect(chat.stdout).toMatch(/Sources:\n\s+\[\d+\] otters\.md/);
    expect(chat.stderr).toContain('Created "Default bot"');

    const usage = await cli(['usage', '--group-by', 'model'], { home });
    expect(usage.code, usage.stderr).toBe(0);
    expect(usage.stdout).toContain('extractive-v1');

    // --explain: the answer, then why — the query, both rankings and the fused score, the timings.
    const explained = await cli(['chat', '--explain', '--message', 'Why do sea otters hold hands?'], {
      home,
    });
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toContain('hold hands while they sleep');
    expect(explained.stdout).toContain('Why this answer');
    expect(explained.stdout).toContain(
      'query as asked (rewrite skipped) · extractive/extractive-v1 · top_k 6',
    );
    expect(explained.stdout).toMatch(/fused\s+lexical\s+dense\s+kept\s+source/);
    expect(explained.stdout).toMatch(/ 1 +\d+\.\d{4} .*\[1\] +otters\.md/);
    expect(explained.stdout).toMatch(
      /ms: auth [\d.]+ · (load [\d.]+ · )?history .* · save [\d.]+ · total \d+/,
    );

    // A "down" rating, exported as a BEIR set that `minirag eval` can load.
    const { token } = Object.values(
      JSON.parse(await readFile(join(home, '.config/minirag/config.json'), 'utf8')).profiles,
    )[0] as { token: string };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, path).toBe(200);
      return res.json();
    };
    const chats = await api('GET', '/v1/chats?limit=100');
    const last = chats.data.at(-1);
    const answer = (await api('GET', `/v1/chats/${last.id}`)).messages[1];
    await api('POST', `/v1/chats/${last.id}/messages/${answer.id}/feedback`, {
      rating: 'down',
      comment: 'Too short.',
    });
    const exported = await cli(['feedback', 'export', '--bot', last.bot_id, '--format', 'beir', 'down-set'], {
      home,
    });
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/1 down-rated questions, [1-9]\d* cited passages/);
    const { loadBeirDataset } = await import('#shared/eval/beir-dataset.ts');
    const set = await loadBeirDataset(join(work, 'down-set'));
    expect(set.queries).toEqual([{ id: answer.id, text: 'Why do sea otters hold hands?' }]);
    const judged = [...(set.qrels.get(answer.id)?.keys() ?? [])];
    expect(judged).toEqual(answer.citations.flatMap((c: { chunk_ids: string[] }) => c.chunk_ids));
    expect(set.corpus.find((d) => d.id === judged[0])?.text).toContain('hold hands');
  });

  it('when a document cannot be ingested, then the table gives the reason and the exit code is 1', async () => {
    const home = await tempDir('minirag-cli-home-');
    const created = await cli(['tenant', 'create', 'Broken Docs'], {
      home,
      env: { MINIRAG_ADMIN_TOKEN: adminToken },
    });
    expect(created.code, created.stderr).toBe(0);
    await writeFile(join(work, 'broken.pdf'), 'this is not a PDF at all');
    const result = await cli(['ingest', 'broken.pdf', 'docs/otters.md'], { home });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/broken\.pdf\s*│ FAILED/);
    expect(result.stdout).toMatch(/otters\.md\s*│ COMPLETED/);
    expect(result.stdout).toContain('1 failed');
    const reason = /broken\.pdf\s*│ FAILED\s*│ —\s*│ (.+?)\s*│/.exec(result.stdout)?.[1];
    expect(reason).toBeTruthy();

    // Running it again retries the failed document (a re-ingest) instead of calling it a duplicate.
    const retry = await cli(['ingest', 'broken.pdf'], { home });
    expect(retry.code).toBe(1);
    expect(retry.stdout).toContain(reason);
    expect(retry.stdout).not.toContain('already added');
  });

  it('when tokens and bots are managed, then secrets come from env vars and are shown only once', async () => {
    const home = await tempDir('minirag-cli-home-');
    await cli(['tenant', 'create', 'Token Co'], { home, env: { MINIRAG_ADMIN_TOKEN: adminToken } });

    const minted = await cli(['token', 'create', '--name', 'ci', '--scopes', 'read,chat'], { home });
    expect(minted.code, minted.stderr).toBe(0);
    const id = /id ([0-9a-f-]{36})/.exec(minted.stdout)?.[1];
    const secret = /\n\s+(mrag_\S+)/.exec(minted.stdout)?.[1];
    expect(id && secret).toBeTruthy();

    const list = await cli(['token', 'list'], { home });
    expect(list.stdout).toContain(id);
    expect(list.stdout).not.toContain(secret);

    // The new token works on its own, then stops working once revoked.
    expect((await cli(['usage', '--token', secret!], { home })).code).toBe(0);
    expect((await cli(['token', 'revoke', id!], { home })).code).toBe(0);
    const revoked = await cli(['usage', '--token', secret!], { home });
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toContain(
      'The bearer token is missing, malformed, expired or revoked. (HTTP 401)',
    );
    expect(revoked.stderr).not.toMatch(STACK_LINE);

    const bot = await cli(
      [
        'bot',
        'create',
        '--name',
        'GPT',
        '--provider',
        'openai',
        '--api-key-env',
        'TEST_KEY',
        '--top-k',
        '3',
        '--query-expansion',
      ],
      {
        home,
        env: { TEST_KEY: 'sk-test-0123456789wxyz' },
      },
    );
    expect(bot.code, bot.stderr).toBe(0);
    expect(bot.stdout).toContain('openai / gpt-4o-mini, key configured …wxyz');
    expect(bot.stdout).toContain('Retrieval: top 3 passages, query expansion on');
    expect(bot.stdout).not.toContain('sk-test-0123456789wxyz');
  });
});
