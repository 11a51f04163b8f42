import type { TenantId } from './ids.ts';
import type { Visitor } from './publishable-key.ts';

export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];

export const SCOPES = ['admin', 'bots:write', 'sources:write', 'chat', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

/** Who is calling, derived only from a verified credential. Every use case takes it first. */
export interface AuthContext {
  readonly tenantId: TenantId;
  readonly userId: string | undefined;
  readonly tokenId: string | undefined;
  readonly isServiceAccount: boolean;
  readonly role: Role;
  readonly scopes: readonly Scope[];
  /**
   * Set only for a website visitor (a visitor token from a publishable key): such a caller may chat in its
   * own chats with the key's bot and nothing else.
   */
  readonly visitor?: Visitor;
}
