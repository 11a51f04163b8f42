-- Publishable keys put one bot on a website. A key is not a secret (it sits in the page's HTML): it grants
-- exactly one capability, chatting with its bot from the origins listed, within its own rate limits and
-- budget. Like an API token it is stored as the SHA-256 of the key and resolved by that hash before its
-- tenant is known.
create table publishable_keys (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  bot_id uuid not null,
  name text,
  prefix text not null,
  key_hash text not null unique,
  allowed_origins text[] not null check (cardinality(allowed_origins) > 0),
  per_visitor_per_minute integer check (per_visitor_per_minute > 0),
  per_key_per_minute integer check (per_key_per_minute > 0),
  monthly_token_budget integer check (monthly_token_budget >= 0),
  revoked_at timestamptz(3),
  last_used_at timestamptz(3),
  created_at timestamptz(3) not null default now(),
  unique (tenant_id, id),
  foreign key (tenant_id, bot_id) references bot_profiles (tenant_id, id) on delete cascade
);
create index publishable_keys_bot_idx on publishable_keys (tenant_id, bot_id, created_at, id);

alter table publishable_keys enable row level security;
alter table publishable_keys force row level security;
create policy tenant_isolation on publishable_keys
  using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());
-- As for api_tokens: holding the key (knowing its hash) makes exactly that one row readable.
create policy key_by_hash on publishable_keys for select
  using (key_hash = nullif(current_setting('app.publishable_key_hash', true), ''));

-- Visitor chats: started with a visitor token, listed among the tenant's chats with this marker, and
-- visible through the public routes only to the same visitor.
alter table chats add column visitor_id text;
alter table chats add column publishable_key_id uuid;
alter table chats add constraint chats_publishable_key_fk
  foreign key (tenant_id, publishable_key_id) references publishable_keys (tenant_id, id) on delete set null (publishable_key_id);

-- Usage and in-flight reservations attributed to a key and a visitor: the key's budget and both rate
-- limits are counted from them, under the tenant's quota lock.
alter table usage_events add column publishable_key_id uuid;
alter table usage_events add column visitor_id text;
create index usage_events_key_idx on usage_events (tenant_id, publishable_key_id, created_at)
  where publishable_key_id is not null;
alter table quota_reservations add column publishable_key_id uuid;
alter table quota_reservations add column visitor_id text;

do $$
begin
  execute format('grant select, insert, update, delete on %I.publishable_keys to minirag_app', current_schema());
end $$;
