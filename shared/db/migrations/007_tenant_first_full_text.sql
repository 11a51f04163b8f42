-- Full-text search restricted to the tenant inside the index. The GIN index on `tsv` alone holds every
-- tenant's postings under each lexeme: a common word matched every tenant's chunks, which were fetched
-- and only then dropped by the tenant filter. With btree_gin, one GIN index holds both `tenant_id` and the
-- lexemes, and a search for (tenant, lexeme) intersects the two posting lists inside the index, so no
-- other tenant's row is read from the table.
--
-- btree_gin is a contrib extension shipped with PostgreSQL (and trusted, so the schema owner may create
-- it; RDS and Aurora allow it). Where it cannot be created the old index stays and search still works,
-- only without the tenant-first index; an operator can create the extension later and run the two
-- index statements below by hand.
do $$
begin
  begin
    create extension if not exists btree_gin;
  exception when others then
    raise notice 'btree_gin is not available (%): full text keeps its tenant-less GIN index', sqlerrm;
  end;
  if exists (select 1 from pg_extension where extname = 'btree_gin') then
    create index if not exists chunks_tenant_tsv_idx on chunks using gin (tenant_id, tsv);
    drop index if exists chunks_tsv_idx;
  end if;
end $$;
