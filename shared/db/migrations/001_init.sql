-- MiniRAG schema. Every tenant-owned table carries tenant_id, has row-level security enabled AND
-- forced, and a policy on the transaction-local setting app.tenant_id. A missing setting reads as
-- '' on a connection that had one before, hence nullif(..., '').

-- The non-owner role every tenant-scoped transaction switches to (SET LOCAL ROLE). Created once per
-- cluster; concurrent first migrations in different schemas may race on it.
do $$
begin
  create role minirag_app nologin;
exception when duplicate_object or unique_violation then null;
end $$;

do $$
begin
  execute format('grant minirag_app to %I', current_user);
exception when others then null; -- a superuser needs no membership
end $$;

create or replace function app_current_tenant() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.tenant_id', true), '')::uuid $$;

create table tenants (
  id uuid primary key,
  slug text not null unique,
  name text not null,
  status text not null default 'active' check (status in ('active', 'suspended')),
  monthly_token_budget integer check (monthly_token_budget >= 0),
  requests_per_minute integer check (requests_per_minute > 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table users (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  email text not null,
  name text,
  role text not null check (role in ('owner', 'admin', 'member')),
  password_hash text,
  failed_logins integer not null default 0,
  last_failed_login_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, email),
  unique (tenant_id, id)
);

create table api_tokens (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  user_id uuid,
  name text not null,
  prefix text not null,
  token_hash text not null unique,
  scopes text[] not null,
  role text not null check (role in ('owner', 'admin', 'member')),
  is_service_account boolean not null,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
create index api_tokens_tenant_idx on api_tokens (tenant_id, created_at);

create table bot_profiles (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  name text not null,
  provider text check (provider in ('openai', 'anthropic', 'openai-compatible')),
  model text,
  base_url text,
  temperature real,
  max_output_tokens integer,
  system_prompt text,
  retrieval jsonb not null default '{}',
  credentials jsonb,
  credentials_last4 text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id)
);
create index bot_profiles_tenant_idx on bot_profiles (tenant_id, created_at);

create table sources (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  title text not null,
  type text not null check (type in ('text', 'markdown', 'html', 'url', 'pdf', 'docx')),
  url text,
  tags text[] not null default '{}',
  metadata jsonb not null default '{}',
  content bytea,
  content_type text,
  content_hash text,
  version integer not null default 1,
  status text not null default 'PENDING' check (status in ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
  error text,
  chunk_count integer not null default 0,
  token_count integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  processed_at timestamptz,
  unique (tenant_id, id)
);
create index sources_tenant_idx on sources (tenant_id, created_at, id);
create index sources_status_idx on sources (tenant_id, status);
create index sources_tags_idx on sources using gin (tags);
create unique index sources_content_hash_uq on sources (tenant_id, content_hash) where content_hash is not null;

create table chunks (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  source_id uuid not null,
  source_version integer not null,
  ordinal integer not null,
  content text not null,
  start_offset integer not null,
  end_offset integer not null,
  token_count integer not null,
  tsv tsvector generated always as (to_tsvector('english', content)) stored,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, source_id) references sources (tenant_id, id) on delete cascade
);
create index chunks_source_idx on chunks (tenant_id, source_id, source_version, ordinal);
create index chunks_tsv_idx on chunks using gin (tsv);

create table chats (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  bot_id uuid not null,
  user_id uuid,
  title text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, id),
  foreign key (tenant_id, bot_id) references bot_profiles (tenant_id, id) on delete cascade
);
create index chats_tenant_idx on chats (tenant_id, created_at, id);

create table messages (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  chat_id uuid not null,
  role text not null check (role in ('user', 'assistant')),
  content text not null,
  citations jsonb not null default '[]',
  status text not null default 'complete' check (status in ('complete', 'partial', 'failed')),
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, chat_id) references chats (tenant_id, id) on delete cascade
);
create index messages_chat_idx on messages (tenant_id, chat_id, created_at);

create table usage_events (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  bot_id uuid,
  chat_id uuid,
  kind text not null check (kind in ('embed', 'rewrite', 'chat')),
  provider text not null,
  model text not null,
  input_tokens integer not null default 0,
  output_tokens integer not null default 0,
  cost_usd numeric(14, 6) not null default 0,
  created_at timestamptz not null default now()
);
create index usage_events_tenant_idx on usage_events (tenant_id, created_at);

-- The local job queue (what SQS is in AWS). Platform infrastructure rather than tenant data: the
-- worker claims across tenants as the owner, so RLS is enabled (the app role may only enqueue for its
-- own tenant) but not forced on the owner.
create table jobs (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  kind text not null,
  payload jsonb not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'dead')),
  attempts integer not null default 0,
  max_attempts integer not null default 5,
  run_at timestamptz not null default now(),
  locked_until timestamptz,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index jobs_claim_idx on jobs (run_at) where status in ('queued', 'running');

-- Row-level security ---------------------------------------------------------------------------
alter table tenants enable row level security;
create policy tenant_self on tenants using (id = app_current_tenant());

do $$
declare t text;
begin
  foreach t in array array['users', 'api_tokens', 'bot_profiles', 'sources', 'chunks', 'chats', 'messages', 'usage_events']
  loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant())',
      t);
  end loop;
end $$;

-- An API token is resolved by its SHA-256 before its tenant is known: knowing the hash (i.e. holding
-- the secret) makes exactly that one row readable.
create policy token_by_hash on api_tokens for select
  using (token_hash = nullif(current_setting('app.token_hash', true), ''));

alter table jobs enable row level security;
create policy tenant_enqueue on jobs for insert with check (tenant_id = app_current_tenant());

-- Privileges of the application role -------------------------------------------------------------
do $$
begin
  execute format('grant usage on schema %I to minirag_app', current_schema());
  execute format('grant select on %I.tenants to minirag_app', current_schema());
  execute format('grant insert on %I.jobs to minirag_app', current_schema());
  execute format(
    'grant select, insert, update, delete on %1$I.users, %1$I.api_tokens, %1$I.bot_profiles, %1$I.sources, '
    '%1$I.chunks, %1$I.chats, %1$I.messages, %1$I.usage_events to minirag_app', current_schema());
  execute format('grant execute on function %I.app_current_tenant() to minirag_app', current_schema());
end $$;
