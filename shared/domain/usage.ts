/** Metered provider calls: what a tenant's tokens were spent on. */

export const USAGE_KINDS = ['embed', 'rewrite', 'rerank', 'chat'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

export interface UsageEvent {
  readonly kind: UsageKind;
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd?: number;
  readonly botId?: string | null;
  readonly chatId?: string | null;
  /** A website visitor's request: the publishable key it came through, and the visitor. */
  readonly publishableKeyId?: string | null;
  readonly visitorId?: string | null;
}

/** How a usage summary is grouped. */
export const USAGE_GROUPINGS = ['day', 'bot', 'model', 'publishable_key'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];
