import { ProviderError } from '#shared/domain/errors.ts';
import type { Reranker, RerankResult } from '#shared/ports/reranker.ts';
import { redactKey, retryAfterSecondsOf } from '../provider-errors.ts';

export interface CohereRerankerOptions {
  /** The operator's Cohere key (COHERE_API_KEY); tenants never supply one. */
  readonly apiKey: string;
  /** e.g. `rerank-v3.5`, `rerank-english-v3.0`, `rerank-multilingual-v3.0`. */
  readonly model: string;
  /** Default `https://api.cohere.com`. */
  readonly baseURL?: string | undefined;
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** Cohere keys are opaque 40-character tokens; anything that long is cut from quoted messages. */
const COHERE_KEY_SHAPE = /\b[A-Za-z0-9]{32,}\b/g;

/** A Reranker on Cohere's own rerank API (`POST /v2/rerank`). */
export function createCohereReranker(options: CohereRerankerOptions): Reranker {
  const base = (options.baseURL ?? 'https://api.cohere.com').replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    provider: 'cohere',
    model: options.model,
    async rerank(query, documents, { topN, signal }): Promise<RerankResult> {
      if (documents.length === 0) return { ranking: [], searchUnits: 0 };
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await doFetch(`${base}/v2/rerank`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body: JSON.stringify({
            model: options.model,
            query,
            documents,
            top_n: Math.min(topN, documents.length),
          }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
          redirect: 'error',
        });
      } catch (error) {
        signal?.throwIfAborted();
        const what = timeout.aborted ? 'did not respond in time' : 'could not be reached';
        throw new ProviderError(`Cohere ${what}.`, { status: 502, cause: error });
      }
      const text = await response.text();
      if (!response.ok) throw cohereError(response, text, options.apiKey);
      const body = JSON.parse(text) as {
        results?: { index: number; relevance_score: number }[];
        meta?: { billed_units?: { search_units?: number } };
      };
      const seen = new Set<number>();
      const ranking = (body.results ?? [])
        .filter((r) => r.index < documents.length && !seen.has(r.index) && seen.add(r.index))
        .slice(0, topN)
        .map((r) => ({ index: r.index, score: r.relevance_score }));
      return { ranking, searchUnits: body.meta?.billed_units?.search_units ?? 1 };
    },
  };
}

function cohereError(response: Response, text: string, apiKey: string): ProviderError {
  const status = response.status;
  const details = { provider: 'cohere', upstreamStatus: status };
  let message = '';
  try {
    message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
  } catch {
    message = '';
  }
  if (status === 401 || status === 403) {
    // The operator's key, not the tenant's: nothing the tenant or a retry can fix.
    return new ProviderError(`Cohere refused the deployment's API key (${status}).`, {
      status: 502,
      retryable: false,
      details,
    });
  }
  if (status === 429) {
    const retryAfterSeconds = retryAfterSecondsOf(response.headers);
    return new ProviderError('Cohere rate limit reached (429).', {
      status: 429,
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      details,
    });
  }
  if (status >= 500) {
    return new ProviderError(`Cohere is unavailable (${status}); try again later.`, { status: 502, details });
  }
  const quoted = redactKey(message, apiKey, COHERE_KEY_SHAPE);
  return new ProviderError(`Cohere rejected the rerank request (${status})${quoted ? `: ${quoted}` : '.'}`, {
    status: 400,
    details,
  });
}
