import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, STACK_LINE } from '#test/e2e/cli-process.ts';
import {
  freePort,
  newAdminToken,
  removeDir,
  type ServerProcess,
  startServer,
  tempDir,
} from '#test/e2e/server-process.ts';

describe('`minirag doctor` against a local server', { timeout: 120_000 }, () => {
  const adminToken = newAdminToken();
  let dataDir: string;
  let work: string;
  let home: string;
  let server: ServerProcess;
  let token: string;

  const doctor = (args: string[]) => runCli(['doctor', '--timeout', '60', ...args], { home, cwd: work });

  beforeAll(async () => {
    dataDir = await tempDir('minirag-doctor-data-');
    work = await tempDir('minirag-doctor-work-');
    home = await tempDir('minirag-doctor-home-');
    server = await startServer({ dataDir, adminToken, timeoutMs: 120_000 });
    const res = await fetch(`${server.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Doctor',
        slug: 'doctor',
        owner_email: 'o@doctor.test',
        owner_password: 'pw 0123456789',
      }),
    });
    expect(res.status).toBe(201);
    token = ((await res.json()) as { api_token: { token: string } }).api_token.token;
  }, 180_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const dir of [dataDir, work, home]) await removeDir(dir);
  });

  it('when everything works then every check is a ✓ line, the probe is cleaned up and the exit code is 0', async () => {
    const result = await doctor(['--api-url', server.url, '--token', token]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => /^[✓✗!] /.test(l));
    expect(lines.filter((l) => l.startsWith('✓ ')).map((l) => l.split(' ').slice(1, 3).join(' '))).toEqual([
      'API reachable',
      'chat URL',
      'token accepted',
      'database migrated',
      'probe document',
      'answer streamed',
    ]);
    expect(result.stdout).not.toMatch(/^✗/m);
    // The server reports its level on /readyz; the check compares it with the migrations this checkout ships.
    expect(result.stdout).toMatch(/^✓ database migrated to \d{3}_\w+$/m);
    expect(result.stdout).not.toMatch(STACK_LINE);
    // The probe's source, bot and chat are gone again.
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const sources = (await (await fetch(`${server.url}/v1/sources`, auth)).json()) as { data: unknown[] };
    const bots = (await (await fetch(`${server.url}/v1/bots`, auth)).json()) as { data: unknown[] };
    expect([sources.data.length, bots.data.length]).toEqual([0, 0]);
    expect(result.stdout).not.toContain(token);
  });

  it('when the token is wrong then the auth check is a ✗ with a hint and the exit code is 1', async () => {
    const result = await doctor(['--api-url', server.url, '--token', `${token.slice(0, -4)}zzzz`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^✗ token refused: .+$/m);
    expect(result.stdout).toContain('npx minirag token create');
    expect(result.stdout).not.toContain('probe document');
  });

  it('when the chat URL answers nothing then that check is a ✗ naming the URL and nothing further runs', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const result = await doctor(['--api-url', server.url, '--chat-url', nowhere, '--token', token]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^✗ chat URL not reachable at ${nowhere}`, 'm'));
    expect(result.stdout).toContain('ChatStreamUrl');
    expect(result.stdout).not.toContain('token accepted');
  });
});
