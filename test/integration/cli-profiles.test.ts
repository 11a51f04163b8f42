import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, STACK_LINE } from '#test/e2e/cli-process.ts';
import { removeDir, type ServerProcess, startServer, tempDir } from '#test/e2e/server-process.ts';

interface ConfigJson {
  version: number;
  current?: string;
  profiles: Record<string, { api_url: string; token: string; tenant?: string; tenant_id?: string }>;
}

describe('CLI profiles (node bin/minirag.js) against a running local server', { timeout: 120_000 }, () => {
  let server: ServerProcess;
  let dataDir: string;
  let work: string;
  let home: string;
  /** Where the CLI beside the server finds it: server.json in the data dir says http://localhost:<port>. */
  let url: string;

  // The CLI finds the server and its admin key file through the data dir, as it would beside `npm start`.
  const cli = (args: string[], env: Record<string, string> = {}, inHome = home) =>
    runCli(args, { home: inHome, cwd: work, env: { MINIRAG_DATA_DIR: dataDir, ...env } });
  const configOf = async (path = join(home, '.config/minirag/config.json')) =>
    JSON.parse(await readFile(path, 'utf8')) as ConfigJson;
  const ok = (result: CliResult) => {
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toMatch(STACK_LINE);
    return result;
  };
  /** The bot names the profile's tenant has (read through the CLI, as that profile). */
  const botNames = async (args: string[], env: Record<string, string> = {}) =>
    ok(await cli([...args, 'bot', 'list'], env)).stdout;

  beforeAll(async () => {
    dataDir = await tempDir('minirag-profiles-data-');
    work = await tempDir('minirag-profiles-work-');
    home = await tempDir('minirag-profiles-home-');
    server = await startServer({ dataDir });
    url = `http://localhost:${server.port}`;
    await mkdir(join(work, 'docs'), { recursive: true });
    await writeFile(join(work, 'docs/otters.md'), 'Sea otters hold hands while they sleep.\n');
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const dir of [dataDir, work, home]) await removeDir(dir);
  });

  it('when `demo` runs after the first local tenant was saved, then it adds a "demo" profile and the current one keeps its tenant and token', async () => {
    const first = ok(await cli(['ingest', 'docs']));
    expect(first.stderr).toContain(`Created tenant 'local' on ${url}.`);
    expect(first.stderr).toContain("Saved as profile 'default'");
    expect(first.stderr).toContain('(now the current profile)');
    expect(first.stderr).toContain(`→ tenant 'local' (profile 'default') at ${url}`);
    const before = await configOf();
    expect(before.current).toBe('default');
    const localToken = before.profiles.default!.token;

    const demo = ok(await cli(['demo']));
    expect(demo.stdout).toContain('Demo tenant created: demo');
    expect(demo.stderr).toContain(`Added profile 'demo' for tenant 'demo' on ${url}.`);
    expect(demo.stderr).toContain(
      "The current profile is still 'default'. Use this one with --profile demo, or make it current: minirag profile use demo",
    );
    expect(demo.stdout).toContain('npx minirag --profile demo chat --message');
    expect(demo.stdout).toContain('npx minirag profile use demo');

    const after = await configOf();
    expect(after.version).toBe(2);
    expect(after.current).toBe('default');
    expect(after.profiles.default).toMatchObject({ api_url: url, token: localToken, tenant: 'local' });
    expect(after.profiles.demo).toMatchObject({ api_url: url, tenant: 'demo' });
    expect(after.profiles.demo!.token).not.toBe(localToken);
    expect((await stat(join(home, '.config/minirag/config.json'))).mode & 0o777).toBe(0o600);

    // Commands without a profile still act on the local tenant.
    const bot = ok(await cli(['bot', 'create', '--name', 'Local bot']));
    expect(bot.stderr).toContain(`→ tenant 'local' (profile 'default') at ${url}`);
    expect(await botNames([])).toContain('Local bot');
    expect(await botNames(['--profile', 'demo'])).not.toContain('Local bot');

    // Running the demo again reuses its profile.
    const again = ok(await cli(['demo']));
    expect(again.stderr).toContain("Using the saved profile 'demo'.");
    expect((await configOf()).profiles.demo!.token).toBe(after.profiles.demo!.token);
  });

  it('when profiles are listed, shown and switched, then the current one is marked and no full token is printed', async () => {
    const { profiles } = await configOf();
    const tokens = Object.values(profiles).map((p) => p.token);

    const list = ok(await cli(['profile', 'list']));
    expect(list.stdout).toMatch(/\*\s*│ default\s*│ local\s*│/);
    expect(list.stdout).toMatch(/│\s+│ demo\s*│ demo\s*│/);
    expect(list.stdout).toContain(`mrag_…${profiles.demo!.token.slice(-4)}`);
    for (const token of tokens) expect(list.stdout + list.stderr).not.toContain(token);

    const show = ok(await cli(['profile', 'show', 'demo']));
    expect(show.stdout).toContain('Profile:  demo\n');
    expect(show.stdout).toContain(`API URL:  ${url}`);
    expect(show.stdout).toContain(`tenant:   demo (${profiles.demo!.tenant_id})`);
    expect(show.stdout).toContain(`token:    mrag_…${profiles.demo!.token.slice(-4)}`);
    for (const token of tokens) expect(show.stdout + show.stderr).not.toContain(token);

    const use = ok(await cli(['profile', 'use', 'demo']));
    expect(use.stdout).toContain(`Current profile: demo (tenant demo at ${url})`);
    expect((await configOf()).current).toBe('demo');
    expect(ok(await cli(['profile', 'list'])).stdout).toMatch(/\*\s*│ demo\s*│ demo\s*│/);
    expect(ok(await cli(['profile', 'show'])).stdout).toContain('Profile:  demo (current)');
    const write = ok(await cli(['bot', 'create', '--name', 'Demo bot']));
    expect(write.stderr).toContain(`→ tenant 'demo' (profile 'demo') at ${url}`);
    expect(await botNames(['--profile', 'demo'])).toContain('Demo bot');
    expect(await botNames(['--profile', 'default'])).not.toContain('Demo bot');
  });

  it('when --profile and MINIRAG_PROFILE are both given, then the flag wins over the variable, which wins over the current profile', async () => {
    expect((await configOf()).current).toBe('demo');
    const byEnv = ok(await cli(['bot', 'create', '--name', 'Env bot'], { MINIRAG_PROFILE: 'default' }));
    expect(byEnv.stderr).toContain("→ tenant 'local' (profile 'default')");
    const byFlag = ok(
      await cli(['--profile', 'demo', 'bot', 'create', '--name', 'Flag bot'], { MINIRAG_PROFILE: 'default' }),
    );
    expect(byFlag.stderr).toContain("→ tenant 'demo' (profile 'demo')");

    const local = await botNames(['--profile', 'default']);
    const demo = await botNames([], { MINIRAG_PROFILE: 'demo' });
    expect(local).toContain('Env bot');
    expect(local).not.toContain('Flag bot');
    expect(demo).toContain('Flag bot');
    expect(demo).not.toContain('Env bot');

    // The variable overrides the current profile, and `profile list` says so.
    const listed = ok(await cli(['profile', 'list'], { MINIRAG_PROFILE: 'default' }));
    expect(listed.stderr).toContain('MINIRAG_PROFILE=default is set');
  });

  it('when a profile name is unknown, then the command fails with the known ones listed and changes nothing', async () => {
    const before = await readFile(join(home, '.config/minirag/config.json'), 'utf8');
    const byFlag = await cli(['--profile', 'staging', 'bot', 'create', '--name', 'Nope']);
    expect(byFlag.code).toBe(1);
    expect(byFlag.stderr).toContain(
      "Unknown profile 'staging' (from --profile). Known profiles: default, demo.",
    );
    expect(byFlag.stderr).not.toMatch(STACK_LINE);
    const byEnv = await cli(['usage'], { MINIRAG_PROFILE: 'staging' });
    expect(byEnv.code).toBe(1);
    expect(byEnv.stderr).toContain(
      "Unknown profile 'staging' (from MINIRAG_PROFILE). Known profiles: default, demo.",
    );
    const use = await cli(['profile', 'use', 'staging']);
    expect(use.code).toBe(1);
    expect(use.stderr).toContain("Unknown profile 'staging'. Known profiles: default, demo.");
    const show = await cli(['profile', 'show', 'staging']);
    expect(show.code).toBe(1);
    expect(await readFile(join(home, '.config/minirag/config.json'), 'utf8')).toBe(before);
    expect(await botNames(['--profile', 'demo'])).not.toContain('Nope');
  });

  it('when the config file is in the earlier one-token-per-server format, then it is read as the "default" profile and kept when the file is next written', async () => {
    // The earlier CLI saved `{ version: 1, servers: { <url>: { token, tenant } } }`; here under XDG_CONFIG_HOME.
    const oldHome = await tempDir('minirag-profiles-old-');
    const xdg = join(oldHome, 'xdg');
    const path = join(xdg, 'minirag/config.json');
    const adminToken = JSON.parse(await readFile(join(dataDir, 'secrets.json'), 'utf8')).adminToken;
    const created = await fetch(`${server.url}/v1/tenants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Legacy', slug: 'legacy', owner_email: 'owner@legacy.example.com' }),
    }).then((r) => r.json() as Promise<{ api_token: { token: string } }>);
    const token = created.api_token.token;
    await mkdir(join(xdg, 'minirag'), { recursive: true });
    await writeFile(
      path,
      JSON.stringify({ version: 1, servers: { [`${url}/`]: { token, tenant: 'legacy' } } }),
    );
    const env = { XDG_CONFIG_HOME: xdg };
    try {
      const list = ok(await cli(['profile', 'list'], env, oldHome));
      expect(list.stdout).toMatch(/\*\s*│ default\s*│ legacy\s*│/);
      const bot = ok(await cli(['bot', 'create', '--name', 'Legacy bot'], env, oldHome));
      expect(bot.stderr).toContain(`→ tenant 'legacy' (profile 'default') at ${url}/`);

      // The demo is the first command to write the file: the old connection survives as "default".
      const demo = ok(await cli(['demo'], env, oldHome));
      expect(demo.stderr).toMatch(/Added profile 'demo' for tenant 'demo-\w+'/);
      const config = await configOf(path);
      expect(config.version).toBe(2);
      expect(config.current).toBe('default');
      expect(config.profiles.default).toEqual({ api_url: `${url}/`, token, tenant: 'legacy' });
      expect(Object.keys(config.profiles).sort()).toEqual(['default', 'demo']);
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await removeDir(oldHome);
    }
  });
});
