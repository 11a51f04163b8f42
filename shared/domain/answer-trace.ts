import type { UsageKind } from './usage.ts';

/**
 * Why an answer says what it says: what retrieval saw, what reached the model and how long each step took.
 * One per assistant message, kept as long as the message. Bounded in size: snippets, never whole chunks.
 */

/** Whether the question was rewritten from the history before retrieval. */
export const REWRITE_STATUSES = ['rewritten', 'skipped', 'failed'] as const;
export type RewriteStatus = (typeof REWRITE_STATUSES)[number];

/**
 * Why a retrieval candidate did not reach the model: below the bot's score threshold (dense only, and not
 * found by full text either), ranked below top_k after fusion, its chunk no longer current (a re-ingest or
 * delete in flight), or its passage did not fit the token budget.
 */
export const DROP_REASONS = ['threshold', 'rank', 'stale', 'budget'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * The timed steps of one answer, in order. `embed` and `dense` run alongside `lexical`; every other step
 * follows the one before it. `load` is the answering code's import, on a process's first question only; `model` builds
 * the provider client.
 */
export const TRACE_STAGES = [
  'auth',
  'load',
  'history',
  'quota',
  'credentials',
  'model',
  'rewrite',
  'embed',
  'dense',
  'lexical',
  'fusion',
  'rerank',
  'assembly',
  'first_token',
  'generation',
  'save',
] as const;
export type TraceStage = (typeof TRACE_STAGES)[number];

export interface RankScore {
  /** 1 is best. */
  readonly rank: number;
  readonly score: number;
}

export interface TraceCandidate {
  readonly chunkId: string;
  readonly sourceId: string | null;
  readonly title: string | null;
  /** The chunk's first characters (null when its row was not read: ranked too low to matter). */
  readonly snippet: string | null;
  /** BM25 over PostgreSQL full text. */
  readonly lexical: RankScore | null;
  /** Cosine similarity from the vector store. */
  readonly dense: RankScore | null;
  /** Reciprocal rank fusion; null when the candidate never entered fusion (below the threshold). */
  readonly fused: RankScore | null;
  /** The passage [n] the chunk went into, null when dropped. */
  readonly passage: number | null;
  readonly dropped: DropReason | null;
}

export interface TracePassage {
  readonly n: number;
  readonly sourceId: string;
  readonly title: string;
  /** More than one when neighbouring chunks of a source were merged into one passage. */
  readonly chunkIds: string[];
  readonly tokens: number;
}

export interface TraceTiming {
  readonly stage: TraceStage;
  /** Milliseconds from the request's arrival to the stage's start. */
  readonly startMs: number;
  readonly ms: number;
}

export interface TraceUsage {
  readonly kind: UsageKind;
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export interface AnswerTrace {
  readonly messageId: string;
  readonly chatId: string;
  readonly botId: string;
  readonly question: string;
  readonly rewrite: { readonly status: RewriteStatus; readonly query: string };
  readonly settings: {
    readonly provider: string;
    readonly model: string;
    readonly topK: number;
    readonly scoreThreshold: number | null;
    readonly tags: string[];
    /** How many candidates each retriever was asked for. */
    readonly candidatesPerRetriever: number;
    readonly contextBudgetTokens: number;
  };
  readonly candidates: TraceCandidate[];
  readonly context: { readonly tokens: number; readonly passages: TracePassage[] };
  /** Passages the answer cites, and `[n]` markers that pointed at no passage (left out of the citations). */
  readonly citations: { readonly used: number[]; readonly unknown: number[] };
  readonly timings: TraceTiming[];
  /** From the request's arrival to the answer being saved. */
  readonly totalMs: number;
  readonly usage: TraceUsage[];
  readonly status: 'complete' | 'partial' | 'failed';
  readonly createdAt: Date;
}

/** Characters of a chunk kept in a trace. */
export const TRACE_SNIPPET_CHARS = 160;
/** Candidates kept in a trace, best fused rank first (a bot may ask each retriever for many). */
export const TRACE_MAX_CANDIDATES = 60;

export const FEEDBACK_RATINGS = ['up', 'down'] as const;
export type FeedbackRating = (typeof FEEDBACK_RATINGS)[number];

export interface MessageFeedback {
  readonly messageId: string;
  readonly chatId: string;
  readonly botId: string;
  readonly rating: FeedbackRating;
  readonly comment: string | null;
  readonly updatedAt: Date;
}
