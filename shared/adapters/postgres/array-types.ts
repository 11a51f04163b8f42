import { parse as parseArrayLiteral } from 'postgres-array';

/**
 * Arrays without postgres.js's type fetch. By default the driver learns array type OIDs with a catalog
 * query on every new connection, and it never awaits that query's promise: a connection reset or a
 * cancelled statement during it becomes an unhandled rejection, which ends a Node 22 process (a Lambda
 * container lost in the middle of a database outage). So the client runs with `fetch_types: false`, and
 * arrays of the built-in scalar types are converted here by their array OIDs, which are the same on every
 * PostgreSQL server (pg_type.dat). The driver describes every statement with parameters before binding it,
 * so a parameter the statement casts (`$1::text[]`, `$2::float8[]`) is serialized by the type the server
 * names.
 */
const STRING_ARRAYS = { text: 1009, varchar: 1015, uuid: 2951, int8: 1016 };
const NUMBER_ARRAYS = { int2: 1005, int4: 1007, float4: 1021, float8: 1022 };
const BOOLEAN_ARRAY = 1000;

/** The text form of a one-dimensional array, every element quoted: `{"a","b \"c\""}`; null → NULL. */
export function arrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((value) =>
    value === null || value === undefined
      ? 'NULL'
      : `"${String(value).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
  );
  return `{${elements.join(',')}}`;
}

const serialize = (value: unknown) => (Array.isArray(value) ? arrayLiteral(value) : String(value));

/**
 * The `types` option of postgres.js. Arrays of text, varchar, uuid and int8 arrive as arrays of strings
 * (int8 as strings, as the driver returns a single int8); of int2, int4, float4 and float8 as numbers;
 * of booleans as booleans.
 */
export const arrayTypes = {
  stringArray: {
    to: STRING_ARRAYS.text,
    from: Object.values(STRING_ARRAYS),
    serialize,
    parse: (literal: string) => parseArrayLiteral(literal),
  },
  numberArray: {
    to: NUMBER_ARRAYS.float8,
    from: Object.values(NUMBER_ARRAYS),
    serialize,
    parse: (literal: string) => parseArrayLiteral(literal, Number),
  },
  booleanArray: {
    to: BOOLEAN_ARRAY,
    from: [BOOLEAN_ARRAY],
    serialize,
    parse: (literal: string) => parseArrayLiteral(literal, (element) => element === 't'),
  },
};
