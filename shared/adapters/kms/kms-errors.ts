import { CredentialError, ProviderError } from '#shared/domain/errors.ts';

export type KmsOperation = 'encrypt' | 'decrypt' | 're-encrypt';

/**
 * Turns an AWS SDK error into a ProviderError whose message a tenant admin can act on. The SDK error
 * stays as `cause` for the logs; nothing from it (or any plaintext) goes into the message, and the
 * error mapper never puts a stack in the response.
 */
export function kmsError(operation: KmsOperation, error: unknown): ProviderError {
  const name = error instanceof Error ? error.name : '';
  const what = `the bot's credentials`;
  switch (name) {
    case 'AccessDeniedException':
      return new ProviderError(`The key service refused to ${operation} ${what}`, { cause: error });
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      // KMS reports a wrong encryption context this way too: the record belongs to another bot or tenant.
      return new CredentialError(
        `The key service could not ${operation} ${what}: they were altered or belong to another bot`,
        { status: 502, cause: error },
      );
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new ProviderError(
        `The key service could not ${operation} ${what}: the key is disabled or pending deletion`,
        { cause: error },
      );
    case 'NotFoundException':
      return new ProviderError(`The key service could not ${operation} ${what}: the key does not exist`, {
        cause: error,
      });
    case 'ThrottlingException':
    case 'LimitExceededException':
      return new ProviderError(`The key service is busy; try again shortly`, {
        status: 429,
        retryAfterSeconds: 1,
        cause: error,
      });
    default:
      return new ProviderError(`The key service failed to ${operation} ${what}`, { cause: error });
  }
}
