import { describe, expect, it } from 'vitest';
import { kmsError } from '#shared/adapters/kms/kms-errors.ts';
import { CredentialError, ProviderError } from '#shared/domain/errors.ts';

const sdkError = (name: string) =>
  Object.assign(new Error(`${name}: arn:aws:kms:eu-west-1:123:key/abc`), { name });

describe('KMS errors', () => {
  it.each([
    ['AccessDeniedException', ProviderError, 502, "The key service refused to decrypt the bot's credentials"],
    [
      'InvalidCiphertextException',
      CredentialError,
      502,
      "The key service could not decrypt the bot's credentials: they were altered or belong to another bot",
    ],
    [
      'IncorrectKeyException',
      CredentialError,
      502,
      "The key service could not decrypt the bot's credentials: they were altered or belong to another bot",
    ],
    [
      'DisabledException',
      ProviderError,
      502,
      "The key service could not decrypt the bot's credentials: the key is disabled or pending deletion",
    ],
    [
      'KMSInvalidStateException',
      ProviderError,
      502,
      "The key service could not decrypt the bot's credentials: the key is disabled or pending deletion",
    ],
    [
      'NotFoundException',
      ProviderError,
      502,
      "The key service could not decrypt the bot's credentials: the key does not exist",
    ],
    ['ThrottlingException', ProviderError, 429, 'The key service is busy; try again shortly'],
    ['LimitExceededException', ProviderError, 429, 'The key service is busy; try again shortly'],
    ['InternalFailure', ProviderError, 502, "The key service failed to decrypt the bot's credentials"],
  ] as const)(
    'when KMS fails with %s then the message says what to do, and the SDK error is kept as the cause',
    (name, type, status, message) => {
      const cause = sdkError(name);
      const error = kmsError('decrypt', cause);
      expect(error).toBeInstanceOf(type);
      expect(error.message).toBe(message);
      expect(error.status).toBe(status);
      expect(error.cause).toBe(cause);
      expect(error.message).not.toContain('arn:aws');
    },
  );

  it('when KMS is throttling then the caller may retry after a second', () => {
    expect(kmsError('encrypt', sdkError('ThrottlingException')).retryAfterSeconds).toBe(1);
    expect(kmsError('encrypt', sdkError('AccessDeniedException')).retryAfterSeconds).toBeUndefined();
  });

  it('when what failed is not an Error then it is reported as a plain failure of the operation', () => {
    for (const thrown of [undefined, 'AccessDeniedException', { name: 'AccessDeniedException' }]) {
      const error = kmsError('re-encrypt', thrown);
      expect(error.message).toBe("The key service failed to re-encrypt the bot's credentials");
      expect(error.cause).toBe(thrown);
    }
  });
});
