import { randomUUID } from 'node:crypto';

declare const brand: unique symbol;
/** A tenant id that came from a verified credential (only auth code creates one). */
export type TenantId = string & { readonly [brand]: 'TenantId' };

export const asTenantId = (id: string): TenantId => id as TenantId;

export const newId = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID_RE.test(value);
