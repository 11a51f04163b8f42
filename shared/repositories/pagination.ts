import { type SqlFragment, sql } from '../db/sql.ts';
import { ValidationError } from '../domain/errors.ts';
import { isUuid } from '../domain/ids.ts';

/** Keyset pagination on (created_at, id): stable under inserts, no OFFSET scans. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface Page<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
}

interface CursorPosition {
  readonly createdAt: string;
  readonly id: string;
}

// Four-digit years from 0001 only: JavaScript also writes years 0, -1 or +275760 in ISO form, which
// PostgreSQL's timestamptz refuses.
const isCanonicalIso = (value: unknown): value is string =>
  typeof value === 'string' &&
  /^(?!0000)\d{4}-/.test(value) &&
  !Number.isNaN(Date.parse(value)) &&
  new Date(value).toISOString() === value;

export function decodeCursor(cursor: string | undefined): CursorPosition | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<CursorPosition>;
    // Exactly what toPage writes (a UUID and a canonical ISO time): anything else would reach the
    // ::uuid / ::timestamptz casts and fail there as a 500.
    if (typeof parsed?.id === 'string' && isUuid(parsed.id) && isCanonicalIso(parsed.createdAt)) {
      return { createdAt: parsed.createdAt, id: parsed.id };
    }
  } catch {
    // fall through to the error below
  }
  throw new ValidationError('The cursor is not valid: pass the next_cursor of the previous page unchanged.');
}

/** `and (created_at, id) > (cursor)` — or nothing on the first page. */
export function afterCursor(cursor: string | undefined, alias = sql``): SqlFragment {
  const position = decodeCursor(cursor);
  if (!position) return sql``;
  return sql` and (${alias}created_at, ${alias}id) > (${position.createdAt}::timestamptz, ${position.id}::uuid)`;
}

/** Fetch `limit + 1` rows, then call this to cut the extra row into a cursor. */
export function toPage<T extends { id: string; createdAt: Date }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { data: rows, nextCursor: null };
  const data = rows.slice(0, limit);
  const last = data[data.length - 1]!;
  const cursor = Buffer.from(
    JSON.stringify({ createdAt: last.createdAt.toISOString(), id: last.id }),
  ).toString('base64url');
  return { data, nextCursor: cursor };
}
