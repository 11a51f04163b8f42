import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/**
 * The deploy context the artifact tests synthesize: an external database (a secret holding its URL, so the
 * bundles can reach a local PostgreSQL without RDS Proxy's TLS), Qdrant (the test server has no pgvector)
 * at a URL the harness maps to its stand-in, and offline embeddings (no provider is reachable).
 */
export const DEPLOYED_CONTEXT = {
  databaseMode: 'external',
  qdrantUrl: 'https://qdrant.minirag.invalid',
  embeddingProvider: 'offline',
} as const;

/** What the source tree looks like: a synth is reused only while nothing it reads has changed. */
export async function sourceDigest(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(join(PROJECT_ROOT, dir), { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else hash.update(path).update(await readFile(join(PROJECT_ROOT, path)));
    }
  };
  for (const dir of ['infra', 'functions', 'shared']) await walk(dir);
  for (const file of ['package-lock.json', 'package.json', 'cdk.json']) {
    hash.update(file).update(await readFile(join(PROJECT_ROOT, file)));
  }
  hash.update(JSON.stringify(DEPLOYED_CONTEXT));
  return hash.digest('hex').slice(0, 20);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOCK_STALE_MS = 10 * 60_000;

/**
 * `cdk synth` with the real esbuild bundles (no Docker) and cdk-nag, once per source tree: the first test
 * file to ask synthesizes into a directory named by the sources' digest while holding a lock directory;
 * test files running in parallel wait for it, and later runs with unchanged sources reuse it. Returns the
 * cloud assembly directory (cdk.out).
 */
export async function synthesizedAssembly(): Promise<string> {
  const out = join(tmpdir(), `minirag-cdk-out-${await sourceDigest()}`);
  const complete = join(out, '.complete');
  const lock = `${out}.lock`;
  const deadline = Date.now() + 2 * LOCK_STALE_MS;
  while (!existsSync(complete)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for another test's synth into ${out}`);
    try {
      await mkdir(lock);
    } catch {
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_STALE_MS) await rm(lock, { recursive: true, force: true });
      await sleep(1_000);
      continue;
    }
    try {
      if (existsSync(complete)) break;
      const partial = `${out}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      const context = Object.entries(DEPLOYED_CONTEXT).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
      await run('npx', ['cdk', 'synth', '--no-notices', '-q', '-o', partial, ...context], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
        timeout: 8 * 60_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      await rm(out, { recursive: true, force: true });
      await rename(partial, out);
      await writeFile(complete, new Date().toISOString());
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
  return out;
}

type Json = Record<string, unknown>;
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Json;
  readonly Metadata?: Json;
}
export interface Template {
  readonly Resources: Record<string, TemplateResource>;
}

/** One of the app's functions as the template deploys it. */
export interface DeployedFunction {
  readonly logicalId: string;
  /** `api`, `ingest`, `chat-stream` or `migrate` (from its Powertools service name). */
  readonly name: string;
  /** The bundle: what Lambda unpacks into /var/task. */
  readonly assetDir: string;
  /** `index.handler`: module `index`, export `handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Environment.Variables exactly as in the template: literals and CloudFormation tokens. */
  readonly environment: Readonly<Record<string, unknown>>;
  /** Logical id of the execution role. */
  readonly role: string;
  readonly logFormat: string | undefined;
}

export async function readTemplate(assembly: string): Promise<Template> {
  const name = (await readdir(assembly)).find((f) => f.endsWith('.template.json'));
  if (!name) throw new Error(`no template in ${assembly}`);
  return JSON.parse(await readFile(join(assembly, name), 'utf8')) as Template;
}

export function deployedFunctions(assembly: string, template: Template): DeployedFunction[] {
  const functions: DeployedFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (resource.Type !== 'AWS::Lambda::Function' || typeof assetPath !== 'string') continue;
    const p = resource.Properties as {
      Handler: string;
      Runtime: string;
      MemorySize?: number;
      Timeout?: number;
      Environment?: { Variables?: Json };
      Role: { 'Fn::GetAtt': [string, string] };
      LoggingConfig?: { LogFormat?: string };
    };
    const service = String(p.Environment?.Variables?.POWERTOOLS_SERVICE_NAME ?? '');
    if (!service.startsWith('minirag-')) continue; // CDK's own helper functions (e.g. the trigger provider)
    functions.push({
      logicalId,
      name: service.slice('minirag-'.length),
      assetDir: join(assembly, assetPath),
      handler: p.Handler,
      runtime: p.Runtime,
      // CloudFormation's defaults when a property is absent.
      memorySize: p.MemorySize ?? 128,
      timeoutSeconds: p.Timeout ?? 3,
      environment: p.Environment?.Variables ?? {},
      role: p.Role['Fn::GetAtt'][0],
      logFormat: p.LoggingConfig?.LogFormat,
    });
  }
  return functions;
}
