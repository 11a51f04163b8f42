/** A bot profile: which model answers, how, and with which retrieval settings. */

/** The language-model providers a bot can name; a bot with none answers extractively. */
export const BOT_PROVIDERS = ['openai', 'anthropic', 'openai-compatible', 'bedrock'] as const;
export type BotProvider = (typeof BOT_PROVIDERS)[number];

/** Who reorders the retrieved passages: Bedrock's rerank models, or Cohere's own rerank API. */
export const RERANK_PROVIDERS = ['bedrock', 'cohere'] as const;
export type RerankProvider = (typeof RERANK_PROVIDERS)[number];

/** A second opinion on the fused candidates before the context is assembled; off unless set. */
export interface RerankSettings {
  readonly provider: RerankProvider;
  readonly model: string;
  /** How many of the reordered passages go on to the context. */
  readonly topN: number;
}

export interface RetrievalSettings {
  readonly topK: number;
  readonly scoreThreshold: number | null;
  readonly tags: string[];
  readonly rerank?: RerankSettings | null | undefined;
  /**
   * Pseudo-relevance feedback (RM3) on the full-text side: the question is widened with the words of its
   * best lexical matches before the final search. Better recall on vocabulary-mismatched questions, at
   * about three times the lexical search's time.
   */
  readonly queryExpansion: boolean;
}

export interface BotProfile {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly provider: BotProvider | null;
  readonly model: string | null;
  readonly baseUrl: string | null;
  /** Bedrock only: the AWS region that serves the model; null: the deployment's Bedrock region. */
  readonly region: string | null;
  readonly temperature: number | null;
  readonly maxOutputTokens: number | null;
  /** The most input tokens one request may send the model; null: the platform default. */
  readonly maxInputTokens: number | null;
  readonly systemPrompt: string | null;
  readonly retrieval: RetrievalSettings;
  /** Only the last four characters of the stored key, for display. */
  readonly credentialsLast4: string | null;
  readonly hasCredentials: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export const DEFAULT_RETRIEVAL: RetrievalSettings = {
  topK: 6,
  scoreThreshold: null,
  tags: [],
  queryExpansion: false,
};

/** What a tenant admin writes; never read back. */
export interface ProviderCredentials {
  readonly apiKey: string;
  readonly organization?: string | undefined;
}
