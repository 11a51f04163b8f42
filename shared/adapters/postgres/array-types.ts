import { parse as parseArrayLiteral } from 'postgres-array';

/**
 * Arrays without postgres.js's type fetch. By default the driver learns array type OIDs with a catalog
 * query on every new connection, and it never awaits that query's promise: a connection reset or a
 * cancelled statement during it becomes an unhandled rejection, which ends a Node 22 process (a Lambda
 * container lost in the middle of a database outage). So the client runs with `fetch_types: false`, and
 * the arrays this code base uses, text[] and uuid[], are converted here by their built-in OIDs, which are
 * the same on every PostgreSQL server. The driver describes every statement with parameters before binding
 * it, so a parameter the statement casts (`$1::text[]`) is serialized by the type the server names.
 */
const TEXT_ARRAY_OID = 1009;
const UUID_ARRAY_OID = 2951;

/** The text form of a one-dimensional array, every element quoted: `{"a","b \"c\""}`; null → NULL. */
export function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((value) =>
    value === null || value === undefined
      ? 'NULL'
      : `"${String(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
  );
  return `{${elements.join(',')}}`;
}

/** The `types` option of postgres.js: text[] and uuid[] results arrive as arrays of strings. */
export const arrayTypes = {
  stringArray: {
    to: TEXT_ARRAY_OID,
    from: [TEXT_ARRAY_OID, UUID_ARRAY_OID],
    serialize: (value: unknown) => (Array.isArray(value) ? arrayLiteral(value) : String(value)),
    parse: (literal: string) => parseArrayLiteral(literal),
  },
};
