import { describe, expect, it } from 'vitest';
import { compile, sql } from '#shared/db/sql.ts';
import { ValidationError } from '#shared/domain/errors.ts';
import { newId } from '#shared/domain/ids.ts';
import { afterCursor, decodeCursor, toPage } from '#shared/repositories/pagination.ts';

/**
 * Keyset pagination's cursor: what `toPage` cuts, `decodeCursor` takes back exactly, and any other string
 * is a ValidationError before it can reach a `::timestamptz` or `::uuid` cast (a 500 there). The
 * repository contract tests walk real pages; these pin the edges no walk reaches.
 */

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const row = (createdAt: string, id = newId()) => ({ id, createdAt: new Date(createdAt) });

describe('toPage', () => {
  it('when the rows fit the limit then they are the page, with no next cursor', () => {
    const rows = [row('2026-01-01T00:00:00.000Z'), row('2026-01-02T00:00:00.000Z')];
    expect(toPage(rows, 2)).toEqual({ data: rows, nextCursor: null });
    expect(toPage(rows, 3)).toEqual({ data: rows, nextCursor: null });
    expect(toPage([], 5)).toEqual({ data: [], nextCursor: null });
  });

  it('when there is one row more than the limit then it is cut off and the cursor names the last row kept', () => {
    const rows = [
      row('2026-01-01T00:00:00.000Z'),
      row('2026-01-02T00:00:00.123Z'),
      row('2026-01-03T00:00:00.000Z'),
    ];
    const page = toPage(rows, 2);
    expect(page.data).toEqual(rows.slice(0, 2));
    expect(page.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8'))).toEqual({
      createdAt: '2026-01-02T00:00:00.123Z',
      id: rows[1]!.id,
    });
    expect(decodeCursor(page.nextCursor!)).toEqual({
      createdAt: '2026-01-02T00:00:00.123Z',
      id: rows[1]!.id,
    });
  });
});

describe('decodeCursor', () => {
  it('when there is no cursor (first page) then there is no position', () => {
    expect(decodeCursor(undefined)).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });

  it('when a cursor holds a UUID and a canonical time then exactly those come back, and nothing else', () => {
    const id = newId();
    expect(decodeCursor(encode({ createdAt: '2026-05-04T03:02:01.999Z', id, extra: 'dropped' }))).toEqual({
      createdAt: '2026-05-04T03:02:01.999Z',
      id,
    });
    // The first year PostgreSQL and JavaScript both write as four digits.
    expect(decodeCursor(encode({ createdAt: '0001-01-01T00:00:00.000Z', id }))?.createdAt).toBe(
      '0001-01-01T00:00:00.000Z',
    );
  });

  const refused: [string, string][] = [
    ['not base64 JSON', 'garbage'],
    ['JSON null', encode(null)],
    ['a JSON string', encode('2026-01-01T00:00:00.000Z')],
    ['no id', encode({ createdAt: '2026-01-01T00:00:00.000Z' })],
    ['a numeric id', encode({ createdAt: '2026-01-01T00:00:00.000Z', id: 7 })],
    ['an id in an array', encode({ createdAt: '2026-01-01T00:00:00.000Z', id: [newId()] })],
    ['an id that is not a UUID', encode({ createdAt: '2026-01-01T00:00:00.000Z', id: 'abc' })],
    ['no time', encode({ id: newId() })],
    ['a time in milliseconds', encode({ createdAt: Date.now(), id: newId() })],
    ['a time not in canonical ISO form', encode({ createdAt: '2026-01-01T00:00:00Z', id: newId() })],
    ['a time with an offset', encode({ createdAt: '2026-01-01T01:00:00.000+01:00', id: newId() })],
    ['an impossible date', encode({ createdAt: '2026-13-01T00:00:00.000Z', id: newId() })],
    ['year 0', encode({ createdAt: '0000-01-01T00:00:00.000Z', id: newId() })],
    ['a negative year', encode({ createdAt: '-000001-01-01T00:00:00.000Z', id: newId() })],
    ['a six-digit year', encode({ createdAt: '+275760-09-13T00:00:00.000Z', id: newId() })],
    ['a time after a prefix', encode({ createdAt: 'x2026-01-01T00:00:00.000Z', id: newId() })],
  ];
  it.each(refused)(
    'when a cursor has %s then ValidationError saying to pass next_cursor unchanged',
    (_, c) => {
      expect(() => decodeCursor(c)).toThrow(ValidationError);
      expect(() => decodeCursor(c)).toThrow(/next_cursor of the previous page unchanged/);
    },
  );
});

describe('afterCursor', () => {
  it('when there is no cursor then no condition is added', () => {
    expect(compile(afterCursor(undefined))).toEqual({ text: '', params: [] });
  });

  it('when there is a cursor then rows after its (created_at, id) are kept, compared as typed values', () => {
    const id = newId();
    const cursor = encode({ createdAt: '2026-01-01T00:00:00.000Z', id });
    expect(compile(afterCursor(cursor))).toEqual({
      text: ' and (created_at, id) > ($1::timestamptz, $2::uuid)',
      params: ['2026-01-01T00:00:00.000Z', id],
    });
    expect(compile(afterCursor(cursor, sql`f.`)).text).toBe(
      ' and (f.created_at, f.id) > ($1::timestamptz, $2::uuid)',
    );
  });

  it('when the cursor is forged then ValidationError before any SQL is made', () => {
    expect(() => afterCursor('garbage')).toThrow(ValidationError);
  });
});
