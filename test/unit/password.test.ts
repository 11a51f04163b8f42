import { describe, expect, it } from 'vitest';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from '#shared/auth/password.ts';

describe('password hashing (scrypt)', () => {
  it('when a password is hashed then it verifies, and the hash records scheme, parameters and salt', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(hash).not.toContain('correct horse');
    await expect(verifyPassword('correct horse battery staple', hash)).resolves.toBe(true);
  });

  it('when the password is wrong, or differs only in case or whitespace, then false', async () => {
    const hash = await hashPassword('Secret-Password-1');
    for (const wrong of ['secret-password-1', 'Secret-Password-1 ', 'Secret-Password-', '']) {
      await expect(verifyPassword(wrong, hash), wrong).resolves.toBe(false);
    }
  });

  it('when the same password is hashed twice then the salts (and hashes) differ', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    expect(a).not.toBe(b);
    await expect(verifyPassword('same password', b)).resolves.toBe(true);
  });

  it('when a password uses a different Unicode normalisation then it still verifies (NFKC)', async () => {
    const hash = await hashPassword('caf\u00e9-password');
    await expect(verifyPassword('cafe\u0301-password', hash)).resolves.toBe(true);
  });

  it('when the stored hash is malformed then false, never an exception', async () => {
    const good = await hashPassword('pw-0123456789');
    const [, n, r, p, salt, key] = good.split('$');
    const malformed = [
      '',
      'plaintext',
      'bcrypt$2b$10$abc',
      `scrypt$${n}$${r}$${p}$${salt}`,
      `argon2$${n}$${r}$${p}$${salt}$${key}`,
      `scrypt$${n}$${r}$${p}$${salt}$${key?.slice(0, 10)}`,
      `scrypt$${n}$${r}$${p}$${salt}$`,
    ];
    for (const stored of malformed)
      await expect(verifyPassword('pw-0123456789', stored), stored).resolves.toBe(false);
  });

  it('when the stored parameters are absurd then verification fails instead of hanging or crashing', async () => {
    const good = await hashPassword('pw-0123456789');
    const [, , r, p, salt, key] = good.split('$');
    const absurd = [
      `scrypt$3$${r}$${p}$${salt}$${key}`, // N not a power of two
      `scrypt$notanumber$${r}$${p}$${salt}$${key}`,
      `scrypt$${2 ** 30}$${r}$${p}$${salt}$${key}`, // would need 1 GiB: over the memory cap
      `scrypt$-1$${r}$${p}$${salt}$${key}`,
    ];
    for (const stored of absurd)
      await expect(verifyPassword('pw-0123456789', stored), stored).resolves.toBe(false);
  });

  it('when the dummy hash (for unknown accounts) is checked then it is a real hash that no likely input matches', async () => {
    expect(DUMMY_PASSWORD_HASH.startsWith('scrypt$')).toBe(true);
    await expect(verifyPassword('', DUMMY_PASSWORD_HASH)).resolves.toBe(false);
    await expect(verifyPassword('password', DUMMY_PASSWORD_HASH)).resolves.toBe(false);
  });
});
