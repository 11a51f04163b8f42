import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ProviderError, ValidationError } from '#shared/domain/errors.ts';

/**
 * Secret settings come from the environment (`NAME`, local and CI) or, in AWS, from Secrets Manager
 * (`NAME_SECRET_ARN`), so no secret value sits in a Lambda's configuration. Values are cached per
 * container: the map is module-level so every resolver in the container shares it, and the TTL lets a
 * rotated secret (e.g. an RDS password) reach warm containers without a redeploy.
 *
 * Errors name the variable, never the value; a JSON parse error is not even kept as `cause`, because
 * V8 quotes the input in its message.
 */
export type Env = Record<string, string | undefined>;

/** What the CDK stack puts in a secret the operator has not filled in yet. */
export const SECRET_PLACEHOLDER = 'REPLACE_ME';

export interface ResolveOptions {
  readonly env: Env;
  /** The secret is JSON: return this field (e.g. `password`). */
  readonly jsonKey?: string;
  /** Throw when neither `NAME` nor `NAME_SECRET_ARN` is set, instead of returning undefined. */
  readonly required?: boolean;
}

export interface SecretResolver {
  resolve(name: string, options: ResolveOptions): Promise<string | undefined>;
  /**
   * `DATABASE_URL`, else the RDS-managed secret at `DATABASE_SECRET_ARN` turned into a URL. `host`
   * replaces the secret's host (an RDS Proxy endpoint differs from the instance in the secret).
   */
  resolveDatabaseUrl(options: { env: Env; host?: string }): Promise<string | undefined>;
}

interface CacheEntry {
  readonly value: Promise<string>;
  readonly expiresAt: number;
}

const cache = new Map<string, CacheEntry>();

/** Forgets every cached secret (tests; or after an operator rotated a secret by hand). */
export function clearSecretCache(): void {
  cache.clear();
}

export function createSecretResolver(
  options: { client?: SecretsManagerClient; ttlMs?: number; now?: () => number } = {},
): SecretResolver {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let client = options.client;

  const fetchSecret = (arn: string, arnVar: string): Promise<string> => {
    const hit = cache.get(arn);
    if (hit && hit.expiresAt > now()) return hit.value;
    client ??= new SecretsManagerClient({});
    const sm = client;
    // The pending promise goes into the cache at once, so concurrent cold-start reads share one call.
    const value = (async () => {
      let out: GetSecretValueCommandOutput;
      try {
        out = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
      } catch (error) {
        throw secretsManagerError(arnVar, error);
      }
      if (typeof out.SecretString !== 'string') {
        throw new ProviderError(
          `The secret named by ${arnVar} has no text value (binary secrets are not supported)`,
          {
            status: 500,
          },
        );
      }
      return out.SecretString;
    })();
    const entry = { value, expiresAt: now() + ttlMs };
    cache.set(arn, entry);
    // A failure is not cached: the next call asks again.
    value.catch(() => {
      if (cache.get(arn) === entry) cache.delete(arn);
    });
    return value;
  };

  const resolveRaw = async (name: string, env: Env, arnVar = `${name}_SECRET_ARN`) => {
    const direct = env[name];
    if (direct) return { value: direct, arnVar: undefined };
    const arn = env[arnVar];
    if (!arn) return undefined;
    const value = await fetchSecret(arn, arnVar);
    // The stack creates optional secrets with a placeholder (CloudFormation rejects an empty value):
    // until the operator fills one in, it counts as not set.
    if (value === SECRET_PLACEHOLDER) return undefined;
    return { value, arnVar };
  };

  return {
    async resolve(name, { env, jsonKey, required }) {
      const found = await resolveRaw(name, env);
      if (!found) {
        if (required) throw new ValidationError(`${name} is not set: set ${name} or ${name}_SECRET_ARN`);
        return undefined;
      }
      // A value set directly in the environment is already the field itself (e.g. just the password).
      if (jsonKey === undefined || found.arnVar === undefined) return found.value;
      const field = parseJsonObject(found.value, found.arnVar)[jsonKey];
      if (typeof field !== 'string' && typeof field !== 'number') {
        throw new ProviderError(`The secret named by ${found.arnVar} has no "${jsonKey}" field`, {
          status: 500,
        });
      }
      return String(field);
    },

    async resolveDatabaseUrl({ env, host }) {
      const found = await resolveRaw('DATABASE_URL', env, 'DATABASE_SECRET_ARN');
      // Without a database nothing works: an unfilled secret is an operator's to-do, said as such.
      if (!found && env.DATABASE_SECRET_ARN) {
        throw new ValidationError(
          `The secret named by DATABASE_SECRET_ARN (${env.DATABASE_SECRET_ARN}) still holds the placeholder ` +
            `"${SECRET_PLACEHOLDER}": put the database's postgres:// URL in it (aws secretsmanager ` +
            `put-secret-value --secret-id <that ARN>), then invoke the migrate function`,
        );
      }
      if (!found) return undefined;
      if (found.arnVar === undefined || /^postgres(ql)?:\/\//.test(found.value)) return found.value;
      return databaseUrlFromRdsSecret(parseJsonObject(found.value, found.arnVar), {
        ...(host ? { host } : {}),
        source: found.arnVar,
      });
    },
  };
}

/** The shape of the secret RDS manages for a database (`{ username, password, host, port, dbname, ... }`). */
export interface RdsSecret {
  readonly username?: unknown;
  readonly password?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  readonly dbname?: unknown;
}

/**
 * A postgres:// URL from an RDS secret. User, password and database name are URL-encoded (RDS
 * generates passwords with `@`, `/`, `:` …). `dbname` defaults to `postgres`, `port` to 5432.
 */
export function databaseUrlFromRdsSecret(
  secret: RdsSecret,
  overrides: { host?: string; port?: number; dbname?: string; source?: string; sslmode?: string } = {},
): string {
  const host = overrides.host ?? secret.host;
  const port = overrides.port ?? secret.port ?? 5432;
  const dbname = overrides.dbname ?? secret.dbname ?? 'postgres';
  const missing = Object.entries({ username: secret.username, password: secret.password, host })
    .filter(([, v]) => typeof v !== 'string' || v === '')
    .map(([k]) => k);
  if (missing.length > 0 || typeof dbname !== 'string' || !/^\d{1,5}$/.test(String(port))) {
    const what = overrides.source ? `The secret named by ${overrides.source}` : 'The database secret';
    const fields = missing.length > 0 ? missing.join(', ') : 'port or dbname';
    throw new ProviderError(`${what} is not a usable database secret (check: ${fields})`, { status: 500 });
  }
  const enc = encodeURIComponent;
  // RDS and RDS Proxy accept (the proxy requires) TLS; never send the password in clear.
  return `postgres://${enc(secret.username as string)}:${enc(secret.password as string)}@${host}:${port}/${enc(dbname)}?sslmode=${enc(overrides.sslmode ?? 'require')}`;
}

function parseJsonObject(text: string, arnVar: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ProviderError(`The secret named by ${arnVar} is not a JSON object`, { status: 500 });
  }
  return parsed as Record<string, unknown>;
}

function secretsManagerError(arnVar: string, error: unknown): ProviderError {
  const name = error instanceof Error ? error.name : '';
  const message =
    name === 'ResourceNotFoundException'
      ? `The secret named by ${arnVar} does not exist`
      : name === 'AccessDeniedException'
        ? `This function is not allowed to read the secret named by ${arnVar}`
        : name === 'DecryptionFailure'
          ? `The secret named by ${arnVar} could not be decrypted (check its KMS key policy)`
          : `Could not read the secret named by ${arnVar}`;
  return new ProviderError(message, { cause: error });
}
