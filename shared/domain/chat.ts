/** A conversation with a bot, its messages and the citations an answer carries. */

export interface Chat {
  readonly id: string;
  readonly botId: string;
  readonly userId: string | null;
  readonly title: string | null;
  /** Set for a chat a website visitor started through a publishable key. */
  readonly visitorId: string | null;
  readonly publishableKeyId: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Citation {
  readonly n: number;
  readonly sourceId: string;
  readonly title: string;
  /** The source's web address, when it has one. */
  readonly url?: string;
  readonly chunkIds: string[];
  readonly startOffset: number;
  readonly endOffset: number;
  readonly snippet: string;
}

export const MESSAGE_ROLES = ['user', 'assistant'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const MESSAGE_STATUSES = ['complete', 'partial', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export interface Message {
  readonly id: string;
  readonly chatId: string;
  readonly role: MessageRole;
  readonly content: string;
  readonly citations: Citation[];
  readonly status: MessageStatus;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly createdAt: Date;
}
