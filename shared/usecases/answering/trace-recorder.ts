import {
  type AnswerTrace,
  type DropReason,
  type RewriteStatus,
  TRACE_MAX_CANDIDATES,
  TRACE_SNIPPET_CHARS,
  type TraceCandidate,
  type TracePassage,
  type TraceStage,
  type TraceTiming,
  type TraceUsage,
} from '../../domain/answer-trace.ts';
import type { BotProfile } from '../../domain/bot.ts';
import type { Citation } from '../../domain/chat.ts';
import type { StoredChunk } from '../../repositories/chunks.ts';

/** What retrieval saw, handed to the recorder as it is (no copies on the request path). */
export interface RetrievalObservation {
  /** Dense hits at or above the threshold, best first (score: cosine similarity). */
  readonly dense: readonly { readonly id: string; readonly score: number }[];
  /** Dense hits the bot's score threshold removed. */
  readonly belowThreshold: readonly { readonly id: string; readonly score: number }[];
  /** Full-text hits, best first (score: BM25). */
  readonly lexical: readonly { readonly id: string; readonly score: number }[];
  /** Fused scores, best first. */
  readonly fused: readonly (readonly [string, number])[];
  /** How many of the best fused ids were looked up. */
  readonly lookedUp: number;
  /** The rows found for them (a missing one is no longer current). */
  readonly rows: ReadonlyMap<string, StoredChunk>;
  /** The chunks retrieval returned. */
  readonly returned: readonly { readonly id: string }[];
}

/**
 * The one insertion point for answer traces: the answering steps report to it, and it builds the trace
 * when the answer is saved. Reporting only keeps references and timestamps, so it costs next to nothing
 * before the first byte; `noTrace` (tracing off) ignores everything.
 */
export interface TraceRecorder {
  readonly enabled: boolean;
  /** Runs one step and records how long it took. */
  time<T>(stage: TraceStage, step: () => Promise<T>): Promise<T>;
  /** Records a step timed by the caller (`now()` readings). */
  span(stage: TraceStage, start: number, end: number): void;
  now(): number;
  settings(bot: BotProfile, model: { provider: string; model: string }, contextBudgetTokens: number): void;
  rewrite(status: RewriteStatus, query: string): void;
  retrieval(observation: RetrievalObservation, candidatesPerRetriever: number): void;
  context(citations: readonly Citation[], passageTokens: readonly number[]): void;
  /** The finished trace, or null when tracing is off. */
  finish(answer: FinishedAnswer): AnswerTrace | null;
}

export interface FinishedAnswer {
  readonly messageId: string;
  readonly chatId: string;
  readonly botId: string;
  readonly question: string;
  readonly status: AnswerTrace['status'];
  readonly cited: number[];
  readonly unknownCitations: number[];
  readonly usage: readonly TraceUsage[];
}

export const noTrace: TraceRecorder = {
  enabled: false,
  time: (_stage, step) => step(),
  span() {},
  now: () => 0,
  settings() {},
  rewrite() {},
  retrieval() {},
  context() {},
  finish: () => null,
};

/** Starts recording one answer. `receivedAt` is the request's arrival (a `performance.now()` reading). */
export function recordAnswerTrace(receivedAt = performance.now()): TraceRecorder {
  const timings: TraceTiming[] = [];
  let settings: AnswerTrace['settings'] | undefined;
  let rewrite: AnswerTrace['rewrite'] | undefined;
  let observed: { observation: RetrievalObservation; perRetriever: number } | undefined;
  let context: { citations: readonly Citation[]; tokens: readonly number[] } | undefined;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  const span = (stage: TraceStage, start: number, end: number) => {
    timings.push({ stage, startMs: round(start - receivedAt), ms: round(end - start) });
  };
  return {
    enabled: true,
    async time(stage, step) {
      const start = performance.now();
      try {
        return await step();
      } finally {
        span(stage, start, performance.now());
      }
    },
    span,
    now: () => performance.now(),
    settings(bot, model, contextBudgetTokens) {
      settings = {
        provider: model.provider,
        model: model.model,
        topK: bot.retrieval.topK,
        scoreThreshold: bot.retrieval.scoreThreshold ?? null,
        tags: [...bot.retrieval.tags],
        candidatesPerRetriever: 0,
        contextBudgetTokens,
      };
    },
    rewrite(status, query) {
      rewrite = { status, query };
    },
    retrieval(observation, perRetriever) {
      observed = { observation, perRetriever };
    },
    context(citations, tokens) {
      context = { citations, tokens };
    },
    finish(answer) {
      const passages: TracePassage[] = (context?.citations ?? []).map((c, i) => ({
        n: c.n,
        sourceId: c.sourceId,
        title: c.title,
        chunkIds: c.chunkIds,
        tokens: context?.tokens[i] ?? 0,
      }));
      return {
        messageId: answer.messageId,
        chatId: answer.chatId,
        botId: answer.botId,
        question: answer.question,
        rewrite: rewrite ?? { status: 'skipped', query: answer.question },
        settings: {
          ...(settings ?? {
            provider: '',
            model: '',
            topK: 0,
            scoreThreshold: null,
            tags: [],
            contextBudgetTokens: 0,
          }),
          candidatesPerRetriever: observed?.perRetriever ?? 0,
        },
        candidates: observed ? candidatesOf(observed.observation, passages) : [],
        context: { tokens: passages.reduce((sum, p) => sum + p.tokens, 0), passages },
        citations: { used: answer.cited, unknown: answer.unknownCitations },
        timings: [...timings].sort((a, b) => a.startMs - b.startMs),
        totalMs: round(performance.now() - receivedAt),
        usage: [...answer.usage],
        status: answer.status,
        createdAt: new Date(),
      };
    },
  };
}

/** One row per chunk any retriever found, best fused rank first, then the ones the threshold removed. */
function candidatesOf(o: RetrievalObservation, passages: readonly TracePassage[]): TraceCandidate[] {
  const passageOf = new Map<string, number>();
  for (const p of passages) for (const id of p.chunkIds) passageOf.set(id, p.n);
  const returned = new Set(o.returned.map((c) => c.id));
  const dense = new Map(o.dense.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
  const lexical = new Map(o.lexical.map((h, i) => [h.id, { rank: i + 1, score: h.score }]));
  // The store ranks by score, so the hits under the threshold come after all the others.
  const belowThreshold = new Map(
    o.belowThreshold.map((h, i) => [h.id, { rank: o.dense.length + i + 1, score: h.score }]),
  );

  const candidate = (id: string, fused: TraceCandidate['fused'], dropped: DropReason | null) => {
    const row = o.rows.get(id);
    const passage = passageOf.get(id) ?? null;
    return {
      chunkId: id,
      sourceId: row?.sourceId ?? null,
      title: row?.sourceTitle ?? null,
      snippet: row ? snippet(row.content) : null,
      lexical: lexical.get(id) ?? null,
      dense: dense.get(id) ?? belowThreshold.get(id) ?? null,
      fused,
      passage,
      dropped: passage === null ? dropped : null,
    };
  };
  const out: TraceCandidate[] = [];
  for (const [index, [id, score]] of o.fused.entries()) {
    if (out.length === TRACE_MAX_CANDIDATES) break;
    const reason: DropReason = returned.has(id)
      ? 'budget'
      : index < o.lookedUp && !o.rows.has(id)
        ? 'stale'
        : 'rank';
    out.push(candidate(id, { rank: index + 1, score }, reason));
  }
  for (const hit of o.belowThreshold) {
    if (out.length === TRACE_MAX_CANDIDATES) break;
    if (!lexical.has(hit.id)) out.push(candidate(hit.id, null, 'threshold'));
  }
  return out;
}

function snippet(content: string): string {
  return content.length > TRACE_SNIPPET_CHARS
    ? `${content.slice(0, TRACE_SNIPPET_CHARS).trimEnd()}…`
    : content;
}
