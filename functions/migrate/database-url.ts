import { databaseUrlFromRdsSecret, SECRET_PLACEHOLDER as PLACEHOLDER } from '#shared/config/secrets.ts';

export { PLACEHOLDER };

export interface DatabaseUrlOptions {
  /** Replaces the secret's host: the RDS Proxy endpoint in front of an Aurora cluster (DATABASE_HOST). */
  readonly host?: string;
  /** `sslmode` of URLs built from an RDS-style secret; default `require`, because RDS Proxy requires TLS. */
  readonly sslmode?: string;
}

/**
 * Turns the value of the database secret into a postgres:// URL: either the URL itself (external databases)
 * or the RDS-style JSON `{ username, password, host, port, dbname }` Aurora generates (password URL-encoded).
 * Undefined while the secret still holds the placeholder. Errors never echo the secret.
 */
export function databaseUrlFromSecret(
  secretString: string,
  options: DatabaseUrlOptions = {},
): string | undefined {
  const value = secretString.trim();
  if (value === '' || value === PLACEHOLDER) return undefined;
  if (/^postgres(ql)?:\/\//.test(value)) return value;

  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('The database secret is neither a postgres:// URL nor an RDS-style JSON object');
  }
  return databaseUrlFromRdsSecret(parsed, {
    ...(options.host ? { host: options.host } : {}),
    ...(options.sslmode ? { sslmode: options.sslmode } : {}),
    source: 'DATABASE_SECRET_ARN',
  });
}
