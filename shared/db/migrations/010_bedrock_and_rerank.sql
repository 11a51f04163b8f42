-- Amazon Bedrock bots and rerank usage.
-- A Bedrock bot is reached with the deployment's own AWS identity: its provider is 'bedrock' and it may
-- name the region its model is called in. Reranking is billed per search and recorded as its own kind.

alter table bot_profiles drop constraint if exists bot_profiles_provider_check;
alter table bot_profiles add constraint bot_profiles_provider_check
  check (provider in ('openai', 'anthropic', 'openai-compatible', 'bedrock'));
alter table bot_profiles add column if not exists region text;

alter table usage_events drop constraint if exists usage_events_kind_check;
alter table usage_events add constraint usage_events_kind_check
  check (kind in ('embed', 'rewrite', 'rerank', 'chat'));
