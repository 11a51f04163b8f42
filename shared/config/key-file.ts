import { randomBytes } from 'node:crypto';
import { chmod, constants, copyFile, link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { base62 } from '#shared/domain/base62.ts';
import { ValidationError } from '#shared/domain/errors.ts';

/**
 * The local key file (`<dataDir>/secrets.json`): what Secrets Manager holds in AWS — the platform
 * admin token, the access-token signing key and the master key that wraps bot credentials. Created
 * on first start, readable only by its owner (file 0600, new directory 0700). Losing it makes the
 * stored bot credentials unreadable, so it is never rewritten except by the key-rotation commands.
 */
export interface LocalSecrets {
  readonly adminToken: string;
  /** 256 bits, base64url. */
  readonly jwtSigningKey: string;
  /** The current master key: 256 bits, base64. */
  readonly masterKey: string;
  /** Master keys replaced by `addMasterKey`, kept until every record has been rotated off them. */
  readonly previousMasterKeys: readonly string[];
}

export const SECRETS_FILE = 'secrets.json';

const masterKeySchema = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes of base64');
const fileSchema = z.object({
  version: z.literal(1),
  adminToken: z.string().min(24),
  jwtSigningKey: z.string().min(32),
  masterKey: masterKeySchema,
  previousMasterKeys: z.array(masterKeySchema).default([]),
});

/**
 * Makes the data directory private to this user: it holds every tenant's documents, chunks, chats and the
 * database's write-ahead log in plain text, plus the key file. `mkdir`'s mode applies only when it creates the
 * directory, so an existing directory that others can read is narrowed to 0700; the previous mode is
 * returned so the caller can say so.
 */
export async function secureDataDir(dataDir: string): Promise<{ narrowedFrom?: number }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const mode = (await stat(dataDir)).mode & 0o777;
  if ((mode & 0o077) === 0) return {};
  await chmod(dataDir, 0o700);
  return { narrowedFrom: mode };
}

/** Reads the key file, creating it (atomically, once, even with concurrent starters) when absent. */
export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, SECRETS_FILE);
  const existing = await readIfPresent(path);
  if (existing) return existing;

  const fresh: LocalSecrets = {
    adminToken: newAdminToken(),
    jwtSigningKey: randomBytes(32).toString('base64url'),
    masterKey: newMasterKey(),
    previousMasterKeys: [],
  };
  const tmp = await writeTemp(dataDir, fresh);
  try {
    // link() fails with EEXIST when the target exists: unlike rename() it never replaces a file another
    // process created in the meantime, so every racer ends up reading the one winning file.
    await linkExclusive(tmp, path);
    return fresh;
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw error;
    const winner = await readIfPresent(path);
    if (!winner) throw error;
    return winner;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Makes a new current master key, keeping the old one in `previousMasterKeys` so records wrapped
 * under it stay readable until `rotateCredentials` has moved them. Restart the server afterwards.
 * Not safe against two concurrent runs of itself (an operator command, not a server path).
 */
export async function addMasterKey(dataDir: string): Promise<LocalSecrets> {
  const current = await loadOrCreateLocalSecrets(dataDir);
  return replace(dataDir, {
    ...current,
    masterKey: newMasterKey(),
    previousMasterKeys: [current.masterKey, ...current.previousMasterKeys],
  });
}

/** Forgets the previous master keys. Only after a rotation reported no failures. */
export async function retirePreviousMasterKeys(dataDir: string): Promise<LocalSecrets> {
  const current = await loadOrCreateLocalSecrets(dataDir);
  return replace(dataDir, { ...current, previousMasterKeys: [] });
}

/** `mrag_admin_` + 256 random bits in base62 (43 characters, fixed length). */
export function newAdminToken(): string {
  return `mrag_admin_${base62(randomBytes(32))}`;
}

export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}

async function replace(dataDir: string, next: LocalSecrets): Promise<LocalSecrets> {
  const tmp = await writeTemp(dataDir, next);
  try {
    await rename(tmp, join(dataDir, SECRETS_FILE));
  } finally {
    await rm(tmp, { force: true });
  }
  return next;
}

async function linkExclusive(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    // Some filesystems (FAT, a few network mounts) have no hard links; an exclusive copy still never
    // replaces a winner's file, at the cost of a tiny window where a reader could see it half-written.
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(codeOf(error) ?? '')) throw error;
    await copyFile(from, to, constants.COPYFILE_EXCL);
  }
}

async function readIfPresent(path: string): Promise<LocalSecrets | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  // A copy restored from a backup may have come back world-readable; tighten it like ssh would insist.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = fileSchema.safeParse(parsed);
  if (!result.success) {
    // Never regenerate: that would silently orphan every stored credential. Never echo the content either.
    throw new ValidationError(
      `The local key file ${path} is damaged (${result.error.issues.map((i) => i.path.join('.') || 'file').join(', ')}); restore it from a backup`,
    );
  }
  const { adminToken, jwtSigningKey, masterKey, previousMasterKeys } = result.data;
  return { adminToken, jwtSigningKey, masterKey, previousMasterKeys };
}

/** Writes the complete file under a unique temporary name and flushes it, so it is never seen half-written. */
async function writeTemp(dataDir: string, secrets: LocalSecrets): Promise<string> {
  const tmp = join(dataDir, `.${SECRETS_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify({ version: 1, ...secrets }, null, 2)}\n`, 'utf8');
    await file.chmod(0o600); // the umask may have narrowed the mode; make sure it is exactly 0600
    await file.sync();
  } finally {
    await file.close();
  }
  return tmp;
}

const codeOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;
