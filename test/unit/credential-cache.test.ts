import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  forgetResolvedCredentials,
  rememberCredential,
  reusableCredential,
} from '#shared/auth/credential-cache.ts';
import type { AuthContext } from '#shared/domain/auth-context.ts';
import { asTenantId } from '#shared/domain/ids.ts';

const auth = (): AuthContext => ({
  tenantId: asTenantId(randomUUID()),
  userId: randomUUID(),
  tokenId: undefined,
  isServiceAccount: false,
  role: 'member',
  scopes: ['read'],
});

afterEach(() => forgetResolvedCredentials());

describe('the resolved-credential cache', () => {
  it('when a credential is remembered then it is reused until the instant its reuse ends, not from then', () => {
    const a = auth();
    rememberCredential('bearer-1', a, 1_000, 500);
    expect(reusableCredential('bearer-1', 1_000)).toBe(a);
    expect(reusableCredential('bearer-1', 1_499)).toBe(a);
    expect(reusableCredential('bearer-1', 1_500)).toBeUndefined();
    // Expired entries are dropped, not revived by an earlier clock.
    expect(reusableCredential('bearer-1', 1_000)).toBeUndefined();
    expect(reusableCredential('bearer-2', 1_000)).toBeUndefined();
  });

  it('when the reuse is zero or negative then nothing is remembered', () => {
    rememberCredential('zero', auth(), 1_000, 0);
    rememberCredential('negative', auth(), 1_000, -5);
    expect(reusableCredential('zero', 1_000)).toBeUndefined();
    expect(reusableCredential('negative', 999)).toBeUndefined();
  });

  it('when the cache is full then a credential not to be reused evicts nothing', () => {
    const first = auth();
    rememberCredential('cred-0', first, 0, 60_000);
    for (let i = 1; i < 1_000; i++) rememberCredential(`cred-${i}`, auth(), 0, 60_000);
    rememberCredential('not-reused', auth(), 0, 0);
    expect(reusableCredential('cred-0', 1)).toBe(first);
  });

  it('when access may have been taken away then every remembered credential is forgotten', () => {
    rememberCredential('a', auth(), 0, 10_000);
    rememberCredential('b', auth(), 0, 10_000);
    forgetResolvedCredentials();
    expect(reusableCredential('a', 1)).toBeUndefined();
    expect(reusableCredential('b', 1)).toBeUndefined();
  });

  it('when 1,000 credentials are remembered then a new one evicts only the oldest', () => {
    const first = auth();
    rememberCredential('cred-0', first, 0, 60_000);
    for (let i = 1; i < 1_000; i++) rememberCredential(`cred-${i}`, auth(), 0, 60_000);
    expect(reusableCredential('cred-0', 1)).toBe(first);
    rememberCredential('cred-1000', auth(), 0, 60_000);
    expect(reusableCredential('cred-0', 1)).toBeUndefined();
    expect(reusableCredential('cred-1', 1)).toBeDefined();
    expect(reusableCredential('cred-999', 1)).toBeDefined();
    expect(reusableCredential('cred-1000', 1)).toBeDefined();
  });
});
