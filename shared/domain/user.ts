import type { Role } from './auth-context.ts';

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly name: string | null;
  readonly role: Role;
  /** Moves on at every password change; access tokens issued under an older one are refused. */
  readonly passwordVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
