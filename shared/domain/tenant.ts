/** A customer of the platform: everything else belongs to exactly one tenant. */

export const TENANT_STATUSES = ['active', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

export interface Tenant {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly monthlyTokenBudget: number | null;
  readonly requestsPerMinute: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
