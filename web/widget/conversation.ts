import type { Citation } from './api.ts';

/** One line of the transcript as the widget shows it and keeps it for the tab's lifetime. */
export interface Turn {
  readonly role: 'user' | 'bot' | 'notice';
  text: string;
  sources?: Citation[];
}

export interface Conversation {
  token?: string;
  expiresAt?: number;
  chatId?: string;
  botName?: string;
  open?: boolean;
  turns: Turn[];
}

/**
 * sessionStorage: the conversation survives reloads and navigation within the site, and ends with the
 * tab. One entry per key, so two bots on one site keep apart.
 */
export function loadConversation(key: string): Conversation {
  try {
    const raw = sessionStorage.getItem(`minirag:${key}`);
    if (raw) return JSON.parse(raw) as Conversation;
  } catch {
    // storage disabled or a value from elsewhere: start afresh
  }
  return { turns: [] };
}

export function saveConversation(key: string, conversation: Conversation): void {
  try {
    sessionStorage.setItem(`minirag:${key}`, JSON.stringify(conversation));
  } catch {
    // storage full or disabled: the conversation lives in memory only
  }
}
