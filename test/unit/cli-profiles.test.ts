import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configFilePath,
  freeProfileName,
  maskToken,
  parseConfig,
  saveProfile,
} from '#cli/client/config-file.ts';
import { resolveConnection } from '#cli/client/connection.ts';

const TOKEN_A = `mrag_${'A'.repeat(39)}aaaa`;
const TOKEN_B = `mrag_${'B'.repeat(39)}bbbb`;

describe('the CLI config file: profiles, and files from earlier versions', () => {
  it('when the file has the one-token-per-server format, then each server becomes a profile, the first "default" and current', () => {
    const config = parseConfig({
      version: 1,
      servers: {
        'http://localhost:8787': { token: TOKEN_A, tenant: 'local' },
        'https://api.example.com': { token: TOKEN_B, tenant: 'acme' },
      },
    });
    expect(config).toEqual({
      version: 2,
      current: 'default',
      profiles: {
        default: { api_url: 'http://localhost:8787', token: TOKEN_A, tenant: 'local' },
        acme: { api_url: 'https://api.example.com', token: TOKEN_B, tenant: 'acme' },
      },
    });
  });

  it('when the file holds a single connection at the top level, then it becomes the "default" profile', () => {
    const config = parseConfig({ apiUrl: 'http://localhost:8787', token: TOKEN_A, tenant: 'local' });
    expect(config.current).toBe('default');
    expect(config.profiles.default).toEqual({
      api_url: 'http://localhost:8787',
      token: TOKEN_A,
      tenant: 'local',
    });
  });

  it('when a name is taken by another server, then a free one is chosen; the same server keeps its name', () => {
    const config = parseConfig({
      profiles: { demo: { api_url: 'http://localhost:8787', token: TOKEN_A } },
      current: 'demo',
    });
    expect(freeProfileName(config, 'demo', 'http://localhost:8787/')).toBe('demo');
    expect(freeProfileName(config, 'demo', 'http://localhost:18787')).toBe('demo-2');
  });

  it('when a token is masked, then only its prefix and last four characters remain', () => {
    expect(maskToken(TOKEN_A)).toBe('mrag_…aaaa');
    expect(maskToken('short')).toBe('****');
  });
});

describe('which profile, URL and token a command uses', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minirag-profiles-'));
    env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), MINIRAG_DATA_DIR: dir };
    await saveProfile('local', { api_url: 'http://localhost:8787', token: TOKEN_A, tenant: 'local' }, env);
    await saveProfile('prod', { api_url: 'https://api.example.com', token: TOKEN_B, tenant: 'acme' }, env);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('when XDG_CONFIG_HOME is set, then the file lives under it; else under HOME/.config', () => {
    expect(configFilePath(env)).toBe(join(dir, 'xdg/minirag/config.json'));
    expect(configFilePath({ HOME: dir })).toBe(join(dir, '.config/minirag/config.json'));
  });

  it('when nothing is given, then the current profile (the first saved) is used', async () => {
    const c = await resolveConnection({}, env);
    expect(c).toMatchObject({ apiUrl: 'http://localhost:8787', token: TOKEN_A, tokenFrom: 'profile' });
    expect(c.profile).toMatchObject({ name: 'local', from: 'current' });
  });

  it('when --profile and MINIRAG_PROFILE disagree, then the flag wins, and the variable wins over the current one', async () => {
    const byEnv = await resolveConnection({}, { ...env, MINIRAG_PROFILE: 'prod' });
    expect(byEnv).toMatchObject({ apiUrl: 'https://api.example.com', token: TOKEN_B });
    const byFlag = await resolveConnection({ profile: 'local' }, { ...env, MINIRAG_PROFILE: 'prod' });
    expect(byFlag).toMatchObject({ apiUrl: 'http://localhost:8787', token: TOKEN_A });
  });

  it('when --token or MINIRAG_TOKEN is given, then it wins over the profile token; the profile still gives the URL', async () => {
    const c = await resolveConnection({ profile: 'prod' }, { ...env, MINIRAG_TOKEN: 'mrag_from_env' });
    expect(c).toMatchObject({ apiUrl: 'https://api.example.com', token: 'mrag_from_env', tokenFrom: 'env' });
    const f = await resolveConnection(
      { profile: 'prod', token: 'mrag_flag' },
      { ...env, MINIRAG_TOKEN: 'x' },
    );
    expect(f).toMatchObject({ token: 'mrag_flag', tokenFrom: 'flag' });
  });

  it('when the URL points at another server than the current profile, then that server’s profile is used, never the current one’s token', async () => {
    const other = await resolveConnection({ apiUrl: 'https://api.example.com/' }, env);
    expect(other).toMatchObject({ token: TOKEN_B, profile: { name: 'prod', from: 'server' } });
    const unknown = await resolveConnection({}, { ...env, MINIRAG_API_URL: 'https://elsewhere.example.com' });
    expect(unknown.token).toBeUndefined();
  });

  it('when --profile names a profile of another server than --api-url, then it is an error', async () => {
    await expect(
      resolveConnection({ profile: 'prod', apiUrl: 'http://localhost:8787' }, env),
    ).rejects.toThrow(
      "Profile 'prod' is for https://api.example.com, but --api-url points at http://localhost:8787",
    );
  });

  it('when the profile is unknown, then the error lists the saved ones', async () => {
    await expect(resolveConnection({ profile: 'stage' }, env)).rejects.toThrow(
      "Unknown profile 'stage' (from --profile). Known profiles: local, prod.",
    );
  });

  it('when the file is not JSON, then the error names the file', async () => {
    await mkdir(join(dir, 'broken/minirag'), { recursive: true });
    await writeFile(join(dir, 'broken/minirag/config.json'), '{nope');
    await expect(resolveConnection({}, { ...env, XDG_CONFIG_HOME: join(dir, 'broken') })).rejects.toThrow(
      'is not valid JSON',
    );
  });
});
