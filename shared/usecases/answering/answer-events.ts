import type { Citation } from '../../domain/chat.ts';

/** What an answer streams, in order: meta, citations, deltas, usage, done. */
export type AnswerEvent =
  | { type: 'meta'; messageId: string; chatId: string | null; botId: string; query: string }
  | { type: 'citations'; citations: Citation[] }
  | { type: 'delta'; text: string }
  | {
      type: 'usage';
      inputTokens: number;
      outputTokens: number;
      costUsd: number;
      /** What wrote the answer: 'extractive' / 'extractive-v1' when no language model ran. */
      provider: string;
      model: string;
    }
  | { type: 'done'; messageId: string; status: 'complete'; cited: number[] };
