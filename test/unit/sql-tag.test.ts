import { describe, expect, it } from 'vitest';
import { assignments, compile, joinSql, type SqlFragment, sql } from '#shared/db/sql.ts';

describe('the sql tag', () => {
  it('when values are interpolated then they become numbered bind parameters, never text', () => {
    const evil = "x'; drop table users; --";
    const q = compile(sql`select * from users where email = ${evil} and role = ${'owner'}`);
    expect(q).toEqual({
      text: 'select * from users where email = $1 and role = $2',
      params: [evil, 'owner'],
    });
  });

  it('when fragments are nested then their text is spliced and parameters are numbered in order', () => {
    const tenant = sql`tenant_id = ${'t1'}`;
    const inner = sql`${tenant} and id = ${'b1'}`;
    const q = compile(sql`select ${sql`id, name`} from bots where ${inner} limit ${10}`);
    expect(q.text).toBe('select id, name from bots where tenant_id = $1 and id = $2 limit $3');
    expect(q.params).toEqual(['t1', 'b1', 10]);
  });

  it('when the same fragment is used twice then each use gets its own parameter numbers', () => {
    const f = sql`x = ${1}`;
    expect(compile(sql`${f} or ${f}`)).toEqual({ text: 'x = $1 or x = $2', params: [1, 1] });
  });

  it('when values are null, arrays, objects or dates then they pass through as parameters unchanged', () => {
    const when = new Date('2024-01-01T00:00:00Z');
    const q = compile(sql`values (${null}, ${['a', 'b']}::text[], ${{ k: 1 }}::jsonb, ${when})`);
    expect(q.text).toBe('values ($1, $2::text[], $3::jsonb, $4)');
    expect(q.params).toEqual([null, ['a', 'b'], { k: 1 }, when]);
  });

  it('when there are no values then the text is unchanged and there are no parameters', () => {
    expect(compile(sql`select 1`)).toEqual({ text: 'select 1', params: [] });
    expect(compile(sql``)).toEqual({ text: '', params: [] });
  });

  it('when joinSql joins fragments then separators sit between them and parameters stay numbered', () => {
    const parts = [sql`a = ${1}`, sql`b = ${2}`, sql`c = ${3}`];
    expect(compile(joinSql(parts, sql` and `))).toEqual({
      text: 'a = $1 and b = $2 and c = $3',
      params: [1, 2, 3],
    });
    expect(compile(joinSql([sql`only = ${'x'}`], sql`, `))).toEqual({ text: 'only = $1', params: ['x'] });
    expect(compile(joinSql([], sql`, `))).toEqual({ text: '', params: [] });
    const q = compile(sql`select * from t where ${joinSql(parts, sql` or `)} limit ${5}`);
    expect(q.params).toEqual([1, 2, 3, 5]);
    expect(q.text).toBe('select * from t where a = $1 or b = $2 or c = $3 limit $4');
  });

  it('when a separator carries a value then it is a parameter too', () => {
    expect(compile(joinSql([sql`a`, sql`b`], sql` ${'sep'} `))).toEqual({ text: 'a $1 b', params: ['sep'] });
  });

  it('when assignments get undefined, null and values then undefined is skipped and null is kept', () => {
    const set = assignments([
      [sql`name`, 'New'],
      [sql`model`, undefined],
      [sql`base_url`, null],
      [sql`retrieval`, sql`${{ top_k: 3 }}::jsonb`],
    ]);
    const q = compile(sql`update bots set ${set} where id = ${'id-1'}`);
    expect(q.text).toBe(
      'update bots set updated_at = now(), name = $1, base_url = $2, retrieval = $3::jsonb where id = $4',
    );
    expect(q.params).toEqual(['New', null, { top_k: 3 }, 'id-1']);
  });

  it('when every assignment is undefined then only updated_at is set', () => {
    expect(compile(assignments([[sql`name`, undefined]]))).toEqual({
      text: 'updated_at = now()',
      params: [],
    });
  });

  it('when a column name is given as a plain string then it is a value, not SQL', () => {
    const q = compile(assignments([['name; drop table x' as unknown as SqlFragment, 1]]));
    expect(q.text).toBe('updated_at = now(), $1 = $2');
    expect(q.params).toEqual(['name; drop table x', 1]);
  });

  it('when a value looks like a placeholder then it stays a value', () => {
    const lookalike = ['$', '{x}'].join('');
    expect(compile(sql`select ${'$1'}, ${lookalike}`)).toEqual({
      text: 'select $1, $2',
      params: ['$1', lookalike],
    });
  });
});
