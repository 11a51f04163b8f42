import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConnection } from '#cli/client/connection.ts';
import {
  localServerFile,
  removeLocalServerFile,
  writeLocalServerFile,
} from '#cli/client/local-server-file.ts';

describe('the CLI finds the local server through server.json in the data directory', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'minirag-server-file-'));
    env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), MINIRAG_DATA_DIR: dir };
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('when a server on another port wrote server.json then the CLI talks to that port', async () => {
    await writeLocalServerFile(dir, 'http://localhost:18787');
    expect((await resolveConnection({}, env)).apiUrl).toBe('http://localhost:18787');
  });

  it('when --api-url or MINIRAG_API_URL is given then it wins over server.json', async () => {
    await writeLocalServerFile(dir, 'http://localhost:18787');
    expect((await resolveConnection({ apiUrl: 'http://localhost:9000' }, env)).apiUrl).toBe(
      'http://localhost:9000',
    );
    expect((await resolveConnection({}, { ...env, MINIRAG_API_URL: 'http://a.test' })).apiUrl).toBe(
      'http://a.test',
    );
  });

  it('when the server that wrote server.json is gone (or the file was removed) then the default port is used', async () => {
    // A pid far above Linux's pid_max: no such process.
    await writeFile(localServerFile(dir), JSON.stringify({ url: 'http://localhost:18787', pid: 2 ** 30 }));
    expect((await resolveConnection({}, env)).apiUrl).toBe('http://localhost:8787');
    await writeLocalServerFile(dir, 'http://localhost:18787');
    await removeLocalServerFile(dir);
    expect((await resolveConnection({}, env)).apiUrl).toBe('http://localhost:8787');
  });
});
