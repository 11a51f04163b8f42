import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticate } from '#shared/auth/authenticate.ts';
import { buildLocalPlatform, type LocalPlatform } from '#shared/composition/local.ts';
import { loadConfig } from '#shared/config/load.ts';
import type { AuthContext } from '#shared/domain/auth-context.ts';
import { createTenant } from '#shared/usecases/tenants.ts';
import { startFakeQdrant } from '#test/fakes/qdrant-server.ts';
import { createTestSchema, loginRoleUrl } from '#test/fixtures/databases.ts';

export interface EmbeddedPlatform {
  readonly platform: LocalPlatform;
  readonly dataDir: string;
  dispose(): Promise<void>;
}

/**
 * The `npm start` composition (PGlite + pgvector in a data directory, offline embedder, local keyring,
 * job table) in a throw-away directory. Only `env` is read, never the caller's environment, so a
 * provider key in the shell cannot switch the embedder.
 */
export async function startEmbeddedPlatform(env: Record<string, string> = {}): Promise<EmbeddedPlatform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'minirag-bench-'));
  const config = loadConfig({ MINIRAG_DATA_DIR: dataDir, LOG_LEVEL: 'ERROR', ...env });
  const platform = await buildLocalPlatform(config, 'minirag-bench');
  return {
    platform,
    dataDir,
    async dispose() {
      await platform.db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The same composition on the PostgreSQL server at `url` (a superuser's URL, e.g. DATABASE_URL), in a fresh
 * schema that dispose() drops; the app connects as the non-superuser login role, as deployed. A server
 * without pgvector gets the spec-checked Qdrant stand-in as its vector store.
 */
export async function startServerPlatform(
  url: string,
  env: Record<string, string> = {},
): Promise<EmbeddedPlatform> {
  const { schema, drop } = await createTestSchema(url);
  const qdrant = await startFakeQdrant();
  const embedded = await startEmbeddedPlatform({
    DATABASE_URL: loginRoleUrl(url),
    DATABASE_SCHEMA: schema,
    DATABASE_MAX_CONNECTIONS: '10',
    VECTOR_STORE: 'qdrant',
    QDRANT_URL: qdrant.url,
    ...env,
  });
  return {
    ...embedded,
    async dispose() {
      await embedded.dispose();
      await qdrant.close();
      await drop();
    },
  };
}

export interface BenchTenant {
  readonly auth: AuthContext;
  readonly token: string;
  readonly slug: string;
}

/** A tenant with its owner's API token, authenticated the way a request would be. */
export async function createBenchTenant(platform: LocalPlatform, label = 'bench'): Promise<BenchTenant> {
  const slug = `${label}-${randomBytes(4).toString('hex')}`;
  const created = await createTenant(platform.db, {
    name: `Bench ${slug}`,
    slug,
    ownerEmail: `owner@${slug}.bench.invalid`,
  });
  const principal = await authenticate(created.apiToken.secret, { db: platform.db, ...platform.secrets });
  if (principal.kind !== 'tenant') throw new Error('bench tenant did not authenticate');
  return { auth: principal.auth, token: created.apiToken.secret, slug };
}
