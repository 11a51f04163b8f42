-- Why an answer says what it says (issue: observability). One trace per assistant message: the question
-- and its rewrite, the retrieval candidates with their lexical, dense and fused ranks, the context as
-- assembled, the citations, stage timings and token usage. Snippets only, never whole chunks, so a trace
-- stays a few kilobytes. It lives as long as its message: deleting the chat deletes both.
alter table messages add constraint messages_tenant_id_id_key unique (tenant_id, id);

create table answer_traces (
  message_id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  chat_id uuid not null,
  bot_id uuid not null,
  status text not null check (status in ('complete', 'partial', 'failed')),
  trace jsonb not null,
  created_at timestamptz(3) not null default now(),
  foreign key (tenant_id, message_id) references messages (tenant_id, id) on delete cascade
);

-- A reader's verdict on one answer: the last rating given wins. Kept with the message like its trace.
create table message_feedback (
  message_id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  chat_id uuid not null,
  bot_id uuid not null,
  rating text not null check (rating in ('up', 'down')),
  comment text check (char_length(comment) <= 2000),
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  foreign key (tenant_id, message_id) references messages (tenant_id, id) on delete cascade
);
create index message_feedback_bot_idx on message_feedback (tenant_id, bot_id, updated_at);

alter table answer_traces enable row level security;
alter table answer_traces force row level security;
create policy tenant_isolation on answer_traces
  using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());

alter table message_feedback enable row level security;
alter table message_feedback force row level security;
create policy tenant_isolation on message_feedback
  using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());

do $$
begin
  execute format('grant select, insert, delete on %I.answer_traces to minirag_app', current_schema());
  execute format('grant select, insert, update, delete on %I.message_feedback to minirag_app', current_schema());
end $$;
