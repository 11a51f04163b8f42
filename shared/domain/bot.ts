/** A bot profile: which model answers, how, and with which retrieval settings. */

/** The language-model providers a bot can name; a bot with none answers extractively. */
export const BOT_PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;
export type BotProvider = (typeof BOT_PROVIDERS)[number];

export interface RetrievalSettings {
  readonly topK: number;
  readonly scoreThreshold: number | null;
  readonly tags: string[];
}

export interface BotProfile {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly provider: BotProvider | null;
  readonly model: string | null;
  readonly baseUrl: string | null;
  readonly temperature: number | null;
  readonly maxOutputTokens: number | null;
  readonly systemPrompt: string | null;
  readonly retrieval: RetrievalSettings;
  /** Only the last four characters of the stored key, for display. */
  readonly credentialsLast4: string | null;
  readonly hasCredentials: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export const DEFAULT_RETRIEVAL: RetrievalSettings = { topK: 6, scoreThreshold: null, tags: [] };

/** What a tenant admin writes; never read back. */
export interface ProviderCredentials {
  readonly apiKey: string;
  readonly organization?: string | undefined;
}
