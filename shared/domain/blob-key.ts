import type { TenantId } from './ids.ts';

/**
 * Object keys of a source's files. The tenant segment is always the authenticated tenant (a TenantId comes
 * only from an AuthContext or a queue message the platform wrote), so one tenant's key can never name another's.
 */
export const tenantBlobPrefix = (tenantId: TenantId) => `tenants/${tenantId}/`;

export const sourceBlobPrefix = (tenantId: TenantId, sourceId: string) =>
  `${tenantBlobPrefix(tenantId)}sources/${sourceId}/`;

export const originalBlobKey = (tenantId: TenantId, sourceId: string, version: number) =>
  `${sourceBlobPrefix(tenantId, sourceId)}v${version}/original`;

const KEY = /^tenants\/[0-9a-f-]{36}\/sources\/[0-9a-f-]{36}\/v[1-9]\d*\/original$/;

/** Whether `key` is a well-formed original's key (the filesystem adapter refuses anything else). */
export const isOriginalBlobKey = (key: string) => KEY.test(key);
