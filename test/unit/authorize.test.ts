import { describe, expect, it } from 'vitest';
import {
  API_TOKEN_PREFIX,
  generateApiToken,
  hashApiToken,
  looksLikeApiToken,
} from '#shared/auth/api-token.ts';
import {
  hasScope,
  requireScope,
  requireSessionOrAdminScope,
  requireTenantAdmin,
  requireUserSession,
} from '#shared/auth/authorize.ts';
import { type AuthContext, SCOPES, type Scope } from '#shared/domain/auth-context.ts';
import { ForbiddenError } from '#shared/domain/errors.ts';
import { asTenantId } from '#shared/domain/ids.ts';

const USER = '3f0c6a4e-7d1b-4c55-9a0e-1f2b3c4d5e6f';
const auth = (over: Partial<AuthContext>): AuthContext => ({
  tenantId: asTenantId('9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e'),
  userId: USER,
  tokenId: undefined,
  isServiceAccount: false,
  role: 'owner',
  scopes: [],
  ...over,
});
const session = (role: AuthContext['role'], scopes: Scope[]) => auth({ role, scopes });
const token = (role: AuthContext['role'], scopes: Scope[], userId: string | undefined = USER) =>
  auth({ role, scopes, tokenId: 'token-id', userId });
/** The ForbiddenError's message, or undefined when the check passes. */
function refusal(check: () => void): string | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return (error as Error).message;
  }
}

describe('scopes', () => {
  it('when a credential holds a scope then it has it; admin implies every scope; others imply none', () => {
    for (const scope of SCOPES) {
      expect(hasScope(token('member', [scope]), scope)).toBe(true);
      expect(hasScope(token('owner', ['admin']), scope)).toBe(true);
      const others = SCOPES.filter((s) => s !== scope && s !== 'admin');
      expect(hasScope(token('owner', others), scope), scope).toBe(false);
    }
  });

  it('when a scope is required and missing then 403 naming the scope; when held, nothing happens', () => {
    expect(refusal(() => requireScope(token('owner', ['read']), 'sources:write'))).toBe(
      "This credential lacks the 'sources:write' scope needed for this operation.",
    );
    expect(refusal(() => requireScope(token('owner', ['sources:write']), 'sources:write'))).toBeUndefined();
    expect(refusal(() => requireScope(token('owner', ['admin']), 'chat'))).toBeUndefined();
  });
});

describe('tenant administration', () => {
  it('when an owner or admin acts with the admin scope then they may administer; members and narrower scopes may not', () => {
    expect(refusal(() => requireTenantAdmin(session('owner', ['admin'])))).toBeUndefined();
    expect(refusal(() => requireTenantAdmin(session('admin', ['admin', 'read'])))).toBeUndefined();
    expect(refusal(() => requireTenantAdmin(session('member', ['admin'])))).toBe(
      'Only a tenant owner or admin (with the admin scope) may do this.',
    );
    expect(
      refusal(() => requireTenantAdmin(token('owner', ['bots:write', 'sources:write', 'chat', 'read']))),
    ).toBe('Only a tenant owner or admin (with the admin scope) may do this.');
  });
});

describe('user sessions', () => {
  it('when a signed-in user calls then it is a session; an API token, even their own, is not', () => {
    expect(
      refusal(() => requireUserSession(session('member', ['read']), 'Changing a password')),
    ).toBeUndefined();
    expect(refusal(() => requireUserSession(token('owner', ['admin']), 'Changing a password'))).toBe(
      'Changing a password needs a signed-in user session (POST /v1/auth/token), not an API token.',
    );
    expect(refusal(() => requireUserSession(auth({ userId: undefined }), 'Changing a password'))).toMatch(
      /needs a signed-in user session/,
    );
  });

  it('when a self-service write comes from a session or an admin-scoped token then it passes; other tokens are refused', () => {
    expect(
      refusal(() => requireSessionOrAdminScope(session('member', ['read']), 'Minting a token')),
    ).toBeUndefined();
    expect(
      refusal(() => requireSessionOrAdminScope(token('owner', ['admin']), 'Minting a token')),
    ).toBeUndefined();
    expect(
      refusal(() => requireSessionOrAdminScope(token('owner', ['read', 'chat']), 'Minting a token')),
    ).toBe("Minting a token needs a signed-in user session or a credential with the 'admin' scope.");
    // A service account's token has no user: it is never a session.
    expect(
      refusal(() =>
        requireSessionOrAdminScope(auth({ userId: undefined, scopes: ['read'] }), 'Minting a token'),
      ),
    ).toMatch(/needs a signed-in user session or a credential with the 'admin' scope/);
  });
});

describe('API tokens', () => {
  it('when a token is generated then it has the prefix, 43 base62 characters, its SHA-256 and a short label', () => {
    const t = generateApiToken();
    expect(t.secret).toMatch(/^mrag_[0-9A-Za-z]{43}$/);
    expect(t.hash).toBe(hashApiToken(t.secret));
    expect(t.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(t.displayPrefix).toBe(`${t.secret.slice(0, 9)}…`);
    expect(generateApiToken().secret).not.toBe(t.secret);
  });

  it('when a bearer is checked then only the exact API token shape looks like one', () => {
    const { secret } = generateApiToken();
    expect(looksLikeApiToken(secret)).toBe(true);
    expect(API_TOKEN_PREFIX).toBe('mrag_');
    for (const other of [
      secret.slice(0, -1),
      `${secret}x`,
      `x${secret}`,
      secret.replace('mrag_', 'mrag-'),
      `mrag_${'-'.repeat(43)}`,
      'eyJhbGciOiJIUzI1NiJ9.e30.sig',
    ]) {
      expect(looksLikeApiToken(other), other).toBe(false);
    }
  });
});
