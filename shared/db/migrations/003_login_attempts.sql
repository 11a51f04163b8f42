-- Failed sign-ins are counted per (tenant slug, email) whether or not that account exists, so after five
-- failures an unknown email is locked out exactly like a real one: the lockout no longer tells which
-- emails have accounts. The key is a SHA-256 of the pair (no email is stored here). A platform table:
-- only the system role (sign-in runs before any tenant is known) reads or writes it.
create table login_attempts (
  key text primary key,
  failures integer not null default 0,
  last_failed_at timestamptz not null default now()
);
-- Failures idle for a day are pruned on every new failure: the index keeps that cheap however many
-- made-up emails are tried.
create index login_attempts_last_failed_idx on login_attempts (last_failed_at);
alter table login_attempts enable row level security;

alter table users drop column failed_logins;
alter table users drop column last_failed_login_at;
