import { describe, expect, it } from 'vitest';
import { splitStatements } from '#shared/adapters/rds-data/split-statements.ts';

describe('splitting a SQL script into statements for the Data API', () => {
  it('when semicolons stand inside quotes, identifiers, comments or dollar-quoted bodies then they do not split', () => {
    const script = `
      -- a comment; with a semicolon
      create table "odd;name" (v text default 'a;b' /* note; */);
      create function f() returns int language plpgsql as $$ begin return 1; end; $$;
      do $body$ begin perform 1; end $body$;
      insert into t values ('it''s; fine')`;
    expect(splitStatements(script)).toEqual([
      `-- a comment; with a semicolon\n      create table "odd;name" (v text default 'a;b' /* note; */)`,
      'create function f() returns int language plpgsql as $$ begin return 1; end; $$',
      'do $body$ begin perform 1; end $body$',
      "insert into t values ('it''s; fine')",
    ]);
  });

  it('when a script ends with a semicolon, a comment or blank lines then no empty statement is sent', () => {
    expect(splitStatements('select 1;\n-- done\n\n')).toEqual(['select 1']);
    expect(splitStatements('  ;  ; ')).toEqual([]);
  });

  it('when a positional parameter appears then it is not taken for a dollar quote', () => {
    expect(splitStatements('select $1; select 2')).toEqual(['select $1', 'select 2']);
  });
});
