-- A password change ends every session begun before it: access tokens carry the password version they
-- were issued under and are refused once it moves on.
alter table users add column password_version integer not null default 0;
-- When the password was last set, and by whom when it was an owner/admin reset rather than the user.
alter table users add column password_changed_at timestamptz;
alter table users add column password_changed_by uuid;
