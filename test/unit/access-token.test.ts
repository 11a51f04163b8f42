import { createHmac } from 'node:crypto';
import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { scopesForRole, signAccessToken, verifyAccessToken } from '#shared/auth/access-token.ts';

const KEY = 'unit-test-signing-key-0123456789abcdef';
const claims = {
  userId: '3f0c6a4e-7d1b-4c55-9a0e-1f2b3c4d5e6f',
  tenantId: '9b1d2c3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e',
  role: 'admin' as const,
};
const now = () => Math.floor(Date.now() / 1000);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function craft(header: object, payload: object, key?: string, hash = 'sha256'): string {
  const unsigned = `${b64url(header)}.${b64url(payload)}`;
  return `${unsigned}.${key === undefined ? '' : createHmac(hash, key).update(unsigned).digest('base64url')}`;
}
const payload = () => ({
  sub: claims.userId,
  tid: claims.tenantId,
  role: 'owner',
  typ: 'access',
  iat: now(),
  exp: now() + 600,
});

describe('access tokens (JWT, HS256)', () => {
  it('when a token is signed then it verifies to the same claims with iat/exp from the TTL', async () => {
    const issuedAt = now();
    const { token, expiresAt } = await signAccessToken(claims, KEY, 900, issuedAt);
    expect(token.split('.')).toHaveLength(3);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toMatchObject({
      alg: 'HS256',
    });
    expect(expiresAt.getTime()).toBe((issuedAt + 900) * 1000);
    await expect(verifyAccessToken(token, KEY)).resolves.toEqual({
      sub: claims.userId,
      tid: claims.tenantId,
      role: 'admin',
      pwv: 0,
      iat: issuedAt,
      exp: issuedAt + 900,
      typ: 'access',
    });
  });

  it('when the token has expired then null', async () => {
    const { token } = await signAccessToken(claims, KEY, 60, now() - 3600);
    await expect(verifyAccessToken(token, KEY)).resolves.toBeNull();
  });

  it('when the token is verified with another key then null', async () => {
    const { token } = await signAccessToken(claims, KEY, 60);
    await expect(verifyAccessToken(token, `${KEY}-other`)).resolves.toBeNull();
  });

  it("when the header says alg 'none' (with or without a signature) then null", async () => {
    await expect(verifyAccessToken(craft({ alg: 'none', typ: 'JWT' }, payload()), KEY)).resolves.toBeNull();
    await expect(
      verifyAccessToken(craft({ alg: 'none', typ: 'JWT' }, payload(), KEY), KEY),
    ).resolves.toBeNull();
    await expect(verifyAccessToken(craft({ alg: 'None' }, payload()), KEY)).resolves.toBeNull();
  });

  it('when the token uses another algorithm, even signed with the right key, then null', async () => {
    await expect(
      verifyAccessToken(craft({ alg: 'HS512', typ: 'JWT' }, payload(), KEY, 'sha512'), KEY),
    ).resolves.toBeNull();
    await expect(
      verifyAccessToken(craft({ alg: 'HS384', typ: 'JWT' }, payload(), KEY, 'sha384'), KEY),
    ).resolves.toBeNull();
    await expect(
      verifyAccessToken(craft({ alg: 'RS256', typ: 'JWT' }, payload(), KEY), KEY),
    ).resolves.toBeNull();
    // Control: the same crafting with HS256 is accepted, so the refusals above are about the algorithm.
    await expect(
      verifyAccessToken(craft({ alg: 'HS256', typ: 'JWT' }, payload(), KEY), KEY),
    ).resolves.not.toBeNull();
  });

  it('when a correctly signed token is not an access token or lacks sub/tid then null', async () => {
    const base = { sub: claims.userId, tid: claims.tenantId, exp: now() + 60 };
    for (const p of [
      { ...base, typ: 'refresh' },
      { ...base },
      { tid: claims.tenantId, typ: 'access', exp: now() + 60 },
      { sub: 1, tid: 2, typ: 'access' },
    ]) {
      await expect(
        verifyAccessToken(await sign(p, KEY, 'HS256'), KEY),
        JSON.stringify(p),
      ).resolves.toBeNull();
    }
  });

  it('when the token is garbage then null, never an exception', async () => {
    for (const junk of ['', 'a', 'a.b', 'a.b.c', '...', 'Bearer x', `${'x'.repeat(5000)}.y.z`]) {
      await expect(verifyAccessToken(junk, KEY), junk.slice(0, 20)).resolves.toBeNull();
    }
  });

  it('when scopes are derived from a role then members get no admin or bots:write', () => {
    expect(scopesForRole('member')).toEqual(['read', 'chat', 'sources:write']);
    for (const role of ['owner', 'admin'] as const) expect(scopesForRole(role)).toContain('admin');
  });
});
