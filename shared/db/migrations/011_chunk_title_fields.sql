-- Title and section heading as a weighted full-text field. Each chunk keeps its source's title and the
-- Markdown heading of the section it starts in; `tsv` labels their lexemes with weight A and the chunk's
-- own text with D, so lexical scoring can count a word of the title or heading more than one of the body
-- (BM25F; the weight is chosen at query time, see searchChunksFullText). Titles are set when a source is
-- created and never edited; were they ever made editable, the rename must update `source_title` of the
-- source's chunks in the same transaction (`tsv` follows, being generated).

alter table chunks add column if not exists source_title text not null default '';
alter table chunks add column if not exists section_heading text not null default '';

-- Existing chunks get their source's title now; their section heading fills in on the next ingest. Both
-- tables force row-level security even on their owner, which runs this migration with no tenant set, so
-- the policies are lifted for this one statement and restored in the same transaction.
alter table chunks no force row level security;
alter table sources no force row level security;
update chunks c set source_title = s.title
from sources s
where s.tenant_id = c.tenant_id and s.id = c.source_id;
alter table chunks force row level security;
alter table sources force row level security;

-- A generated column's expression cannot be altered before PostgreSQL 17: drop it (its GIN index goes
-- with it) and add it again, which computes it for every row.
alter table chunks drop column tsv;
alter table chunks add column tsv tsvector generated always as (
  setweight(to_tsvector('english', source_title || ' ' || section_heading), 'A')
    || setweight(to_tsvector('english', content), 'D')
) stored;

-- BM25 needs each chunk's length and the tenant's average: kept as numbers beside `tsv` (its distinct
-- lexemes per field) so that averaging them reads no tsvector at all.
alter table chunks add column text_lexemes integer generated always as (
  length(to_tsvector('english', content))
) stored;
alter table chunks add column title_lexemes integer generated always as (
  length(to_tsvector('english', source_title || ' ' || section_heading))
) stored;

-- The index as migration 007 left it: tenant-first where btree_gin exists, tenant-less otherwise.
do $$
begin
  if exists (select 1 from pg_extension where extname = 'btree_gin') then
    create index if not exists chunks_tenant_tsv_idx on chunks using gin (tenant_id, tsv);
  else
    create index if not exists chunks_tsv_idx on chunks using gin (tsv);
  end if;
end $$;
