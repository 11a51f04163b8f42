import type { Role } from './auth-context.ts';

export interface User {
  readonly id: string;
  readonly tenantId: string;
  readonly email: string;
  readonly name: string | null;
  readonly role: Role;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
