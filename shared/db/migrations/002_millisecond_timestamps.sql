-- Keyset pagination puts `created_at` into the cursor as a JavaScript Date, which has millisecond
-- precision; PostgreSQL keeps microseconds, so a cursor could match the last row of its own page again.
-- Storing creation times with millisecond precision makes the cursor exact. (messages keep microseconds:
-- they are not paginated by cursor, and a question and its answer written in the same millisecond must
-- still sort in write order.)
alter table tenants alter column created_at type timestamptz(3);
alter table users alter column created_at type timestamptz(3);
alter table api_tokens alter column created_at type timestamptz(3);
alter table bot_profiles alter column created_at type timestamptz(3);
alter table sources alter column created_at type timestamptz(3);
alter table chats alter column created_at type timestamptz(3);
