import type { Role, Scope } from './auth-context.ts';

export interface ApiToken {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string | null;
  readonly name: string;
  readonly prefix: string;
  readonly scopes: Scope[];
  readonly role: Role;
  readonly isServiceAccount: boolean;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly createdAt: Date;
}
