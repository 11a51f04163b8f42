-- A chat request reserves an estimate of its tokens when it is admitted, before any provider call, and
-- gives the reservation back when its real usage is recorded (or when it fails). Admission counts the
-- open reservations with the recorded usage, under a per-tenant lock, so concurrent requests cannot all
-- pass a check that none of them has yet been billed for. A reservation left by a process that died
-- stops counting at expires_at.
create table quota_reservations (
  id uuid primary key,
  tenant_id uuid not null references tenants (id) on delete cascade,
  tokens integer not null check (tokens >= 0),
  created_at timestamptz(3) not null default now(),
  expires_at timestamptz(3) not null
);
create index quota_reservations_tenant_idx on quota_reservations (tenant_id, expires_at);

alter table quota_reservations enable row level security;
alter table quota_reservations force row level security;
create policy tenant_isolation on quota_reservations
  using (tenant_id = app_current_tenant()) with check (tenant_id = app_current_tenant());

do $$
begin
  execute format('grant select, insert, delete on %I.quota_reservations to minirag_app', current_schema());
end $$;

-- The most input tokens (instructions, history, sources and question) one request of a bot may send;
-- null means the platform default.
alter table bot_profiles add column max_input_tokens integer check (max_input_tokens > 0);
