import { randomBytes } from 'node:crypto';
import { base62 } from '../domain/base62.ts';
import { hashApiToken } from './api-token.ts';

export const PUBLISHABLE_KEY_PREFIX = 'mrag_pk_';

/** A new publishable key: shown in full once (and in the embed snippet); stored as SHA-256 like API tokens. */
export function generatePublishableKey(): { key: string; hash: string; displayPrefix: string } {
  const key = PUBLISHABLE_KEY_PREFIX + base62(randomBytes(32));
  return { key, hash: hashPublishableKey(key), displayPrefix: `${key.slice(0, 12)}…` };
}

export const hashPublishableKey = (key: string): string => hashApiToken(key);

export const looksLikePublishableKey = (value: string): boolean => /^mrag_pk_[0-9A-Za-z]{43}$/.test(value);
