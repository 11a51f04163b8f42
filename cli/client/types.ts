import type { BotProvider } from '#shared/domain/bot.ts';
import type { SourceStatus } from '#shared/domain/source.ts';
import type { TenantStatus } from '#shared/domain/tenant.ts';

/** The wire shapes (snake_case, as the API sends them) the CLI reads. See GET /openapi.json. */

export type { BotProvider, SourceStatus };

export interface SourceJson {
  readonly id: string;
  readonly title: string;
  readonly type: string;
  readonly url: string | null;
  readonly status: SourceStatus;
  readonly error: string | null;
  readonly version: number;
  readonly chunk_count: number;
  readonly token_count: number;
  readonly size_bytes: number;
  /** Set when the same content was already ingested as that source (then status is FAILED). */
  readonly duplicate_of?: string | null;
}

export interface TenantJson {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: TenantStatus;
}

export interface CreatedTenantJson {
  readonly tenant: TenantJson;
  readonly owner: { readonly id: string; readonly email: string };
  readonly api_token: { readonly id: string; readonly token: string };
}

export interface MeJson {
  readonly tenant: TenantJson;
  readonly identity: { readonly email: string | null; readonly role: string; readonly scopes: string[] };
}

export interface ApiTokenJson {
  readonly id: string;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: string[];
  readonly service_account: boolean;
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
  readonly last_used_at: string | null;
  readonly created_at: string;
  /** Only in the response that minted it. */
  readonly token?: string;
}

export interface BotJson {
  readonly id: string;
  readonly name: string;
  readonly provider: BotProvider | null;
  readonly model: string | null;
  readonly base_url: string | null;
  readonly credentials: { readonly configured: boolean; readonly last4: string | null };
  readonly retrieval: { readonly top_k: number; readonly query_expansion: boolean };
  readonly created_at: string;
}

export interface ChatJson {
  readonly id: string;
  readonly bot_id: string;
}

export interface CitationJson {
  readonly n: number;
  readonly source_id: string;
  readonly title: string;
  readonly chunk_ids: string[];
  readonly start_offset: number;
  readonly end_offset: number;
  readonly snippet: string;
}

export interface UsageJson {
  readonly from: string;
  readonly to: string;
  readonly group_by: 'day' | 'bot' | 'model';
  readonly data: {
    readonly key: string | null;
    readonly kind: 'embed' | 'rewrite' | 'chat';
    readonly input_tokens: number;
    readonly output_tokens: number;
    readonly cost_usd: number;
    readonly events: number;
  }[];
}

interface RankScoreJson {
  readonly rank: number;
  readonly score: number;
}

/** GET /v1/chats/{chat_id}/messages/{message_id}/trace. */
export interface AnswerTraceJson {
  readonly message_id: string;
  readonly question: string;
  readonly rewrite: { readonly status: 'rewritten' | 'skipped' | 'failed'; readonly query: string };
  readonly settings: {
    readonly provider: string;
    readonly model: string;
    readonly top_k: number;
    readonly score_threshold: number | null;
    readonly tags: string[];
  };
  readonly candidates: {
    readonly chunk_id: string;
    readonly title: string | null;
    readonly snippet: string | null;
    readonly lexical: RankScoreJson | null;
    readonly dense: RankScoreJson | null;
    readonly fused: RankScoreJson | null;
    readonly kept: boolean;
    readonly passage: number | null;
    readonly dropped: string | null;
  }[];
  readonly context: {
    readonly tokens: number;
    readonly passages: { readonly n: number; readonly tokens: number }[];
  };
  readonly citations: { readonly used: number[]; readonly unknown: number[] };
  readonly timings: { readonly stage: string; readonly start_ms: number; readonly ms: number }[];
  readonly total_ms: number;
}

/** GET /v1/feedback. */
export interface RatedAnswerJson {
  readonly message_id: string;
  readonly bot_id: string;
  readonly rating: 'up' | 'down';
  readonly comment: string | null;
  readonly question: string;
  readonly query: string | null;
  readonly answer: string;
  readonly passages: {
    readonly n: number;
    readonly chunk_id: string;
    readonly source_id: string;
    readonly title: string;
    readonly text: string;
    readonly current: boolean;
  }[];
}
