/**
 * A tiny tagged-template SQL builder shared by both database adapters. Values always travel as
 * bind parameters ($1, $2, ...); only other `sql` fragments are spliced into the text, so no value
 * can ever become SQL. This is what lets one repository run on porsager/postgres and on PGlite.
 */
export class SqlFragment {
  constructor(
    readonly strings: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

export interface CompiledQuery {
  readonly text: string;
  readonly params: unknown[];
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlFragment {
  return new SqlFragment(strings, values);
}

/** Joins fragments with a separator fragment, e.g. `joinSql(conditions, sql\` and \`)`. */
export function joinSql(parts: readonly SqlFragment[], separator: SqlFragment): SqlFragment {
  if (parts.length === 0) return sql``;
  const strings: string[] = [''];
  const values: unknown[] = [];
  parts.forEach((part, i) => {
    if (i > 0) {
      strings.push('');
      values.push(separator);
    }
    values.push(part);
    strings.push('');
  });
  return new SqlFragment(strings, values);
}

export function compile(fragment: SqlFragment): CompiledQuery {
  const params: unknown[] = [];
  const walk = (f: SqlFragment): string => {
    let text = f.strings[0] ?? '';
    f.values.forEach((value, i) => {
      if (value instanceof SqlFragment) {
        text += walk(value);
      } else {
        params.push(value);
        text += `$${params.length}`;
      }
      text += f.strings[i + 1] ?? '';
    });
    return text;
  };
  return { text: walk(fragment), params };
}

/**
 * `updated_at = now(), col = $n, …` for the entries whose value is not `undefined` (a PATCH that
 * leaves a field out leaves it unchanged; `null` clears it). Columns are fragments, never values.
 */
export function assignments(
  entries: ReadonlyArray<readonly [column: SqlFragment, value: unknown]>,
): SqlFragment {
  const sets = entries
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => sql`${column} = ${value}`);
  return joinSql([sql`updated_at = now()`, ...sets], sql`, `);
}
