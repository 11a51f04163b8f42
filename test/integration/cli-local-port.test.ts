import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '#test/e2e/cli-process.ts';
import {
  freePort,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
  waitFor,
} from '#test/e2e/server-process.ts';

/** The arguments after `npx minirag` of each command in a printed `npx minirag … && npx minirag …` line. */
function printedCommands(line: string): string[][] {
  return line
    .trim()
    .split(' && ')
    .map((command) => {
      const words = command.trim().split(/\s+/);
      expect(words.slice(0, 2)).toEqual(['npx', 'minirag']);
      return words.slice(2);
    });
}

describe('`PORT=… npm start` on a non-default port, then the CLI as the banner prints it', {
  timeout: 120_000,
}, () => {
  let server: ServerProcess;
  let work: string;
  let home: string;

  beforeAll(async () => {
    work = await tempDir('minirag-port-work-');
    home = await tempDir('minirag-port-home-');
    await mkdir(join(work, 'docs'), { recursive: true });
    await writeFile(
      join(work, 'docs/otters.md'),
      '# Sea otters\n\nSea otters hold hands while they sleep so that they do not drift apart.\n',
    );
    let port = await freePort();
    while (port === 8787) port = await freePort();
    // The data dir is the default `.minirag`, relative to where the server runs: the CLI run in the same
    // folder (with no MINIRAG_* settings) finds it there.
    server = await startServer({ dataDir: '.minirag', cwd: work, port, portFrom: 'env' });
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    await removeDir(work);
    await removeDir(home);
  });

  it('when the banner is followed verbatim, then ingest and chat reach the server on that port', async () => {
    const banner = await waitFor('the start banner', async () =>
      server.output().includes('Next, in another terminal:') ? server.output() : undefined,
    );
    const url = `http://localhost:${server.port}`;
    expect(banner).toContain(`MiniRAG is running at ${url}`);
    const next = /Next, in another terminal:\n(.+)\n/.exec(banner)?.[1];
    expect(next, banner).toBeDefined();
    const [ingest, chat] = printedCommands(next!);
    expect(ingest).toContain('ingest');
    expect(chat).toContain('chat');

    const ingested = await runCli(ingest!, { home, cwd: work });
    expect(ingested.code, ingested.stderr).toBe(0);
    expect(ingested.stderr).toContain(`into ${url}`);
    expect(ingested.stdout).toContain('Summary: 1 completed');

    const answered = await runCli(chat!, { home, cwd: work, input: 'Why do sea otters hold hands?\n' });
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stdout).toContain('hold hands while they sleep');

    // Printed, the command needs no data dir beside it: from another folder it still reaches the server.
    const elsewhere = await runCli(chat!, { home, cwd: home, input: 'Why do sea otters hold hands?\n' });
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(elsewhere.stdout).toContain('hold hands while they sleep');
  });

  it('when no URL is given at all, then the CLI beside the server finds it through the data dir', async () => {
    const result = await runCli(['ingest', 'docs'], { home, cwd: work });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`into http://localhost:${server.port}`);
    // Same tenant (its token saved by the first run), same document: already there.
    expect(result.stdout).toContain('Summary: 0 completed, 1 already ingested, 0 failed');
  });
});
