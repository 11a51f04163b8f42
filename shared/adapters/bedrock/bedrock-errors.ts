import { ProviderError } from '#shared/domain/errors.ts';

/**
 * Signing material an AWS error message might quote: SigV4 header parts, access key ids and long opaque
 * tokens (secret keys, session tokens, signatures).
 */
const AWS_SECRET_SHAPES =
  /AWS4-HMAC-SHA256|\b(?:Credential|SignedHeaders|Signature)=[^\s,;)]+|\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b|[A-Za-z0-9+/=_-]{40,}/g;

/** An AWS error message cut short and stripped of anything shaped like a credential. */
export function redactAwsMessage(message: string): string {
  const text = message.replace(AWS_SECRET_SHAPES, '[redacted]');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** What a Bedrock call was for, to name it in messages: `model 'x' in us-east-1`. */
export interface BedrockTarget {
  readonly model: string;
  readonly region: string;
}

/** The fields every AWS SDK v3 error carries (ServiceException or a client-side Error). */
interface AwsErrorLike {
  readonly name?: string;
  readonly message?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly code?: string;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
]);

/**
 * Turns an error of `@aws-sdk/client-bedrock-runtime` or `-agent-runtime` (a modelled exception, an
 * exception frame in a stream, or a client-side failure) into a ProviderError a tenant admin can act on.
 * Bedrock is reached with the deployment's own IAM identity, so an access refusal is about model access,
 * not a bot's key. Bedrock's throttling carries no Retry-After; one second is what we ask callers to wait
 * (and what the chat retry waits before the first token).
 */
export function bedrockError(error: unknown, target: BedrockTarget): unknown {
  if (error instanceof ProviderError || !(error instanceof Error)) return error;
  if (error.name === 'AbortError') return error;
  const e = error as AwsErrorLike;
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  const details = { provider: 'bedrock', upstreamStatus: status, upstreamType: name };
  const model = `'${target.model}'`;
  switch (name) {
    case 'ThrottlingException':
    case 'ModelNotReadyException':
      return new ProviderError(`Amazon Bedrock is throttling requests to model ${model} (${name}).`, {
        status: 429,
        retryAfterSeconds: 1,
        cause: error,
        details,
      });
    case 'ServiceQuotaExceededException':
      return new ProviderError(
        `The account's Amazon Bedrock quota for model ${model} is used up (ServiceQuotaExceededException).`,
        { status: 429, cause: error, details },
      );
    case 'AccessDeniedException':
      return new ProviderError(
        `Amazon Bedrock refused access to model ${model} in ${target.region}: enable model access for it in the Bedrock console (Model access) of that region, and make sure the deployment allows it (the bedrockModels setting).`,
        { status: 400, details },
      );
    case 'ResourceNotFoundException':
      return new ProviderError(
        `Amazon Bedrock has no model ${model} in ${target.region}: check the bot's model id (or inference profile id) and region.`,
        { status: 400, cause: error, details },
      );
    case 'ValidationException': {
      const quoted = redactAwsMessage(e.message ?? '');
      return new ProviderError(
        `Amazon Bedrock rejected the request for model ${model}${quoted ? `: ${quoted}` : '.'}`,
        { status: 400, cause: error, details },
      );
    }
    case 'ModelTimeoutException':
      return new ProviderError(`Model ${model} on Amazon Bedrock timed out; try again.`, {
        status: 502,
        cause: error,
        details,
      });
    case 'ServiceUnavailableException':
    case 'InternalServerException':
    case 'ModelStreamErrorException':
    case 'ModelErrorException':
      return new ProviderError(
        `Amazon Bedrock is unavailable for model ${model} (${name}); try again later.`,
        {
          status: 502,
          cause: error,
          details,
        },
      );
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
    case 'CredentialsProviderError':
      // The deployment's own identity, not the tenant's: nothing a retry or the tenant can fix.
      return new ProviderError(
        `Amazon Bedrock did not accept the deployment's AWS credentials (${name}); the operator must fix the credentials or role.`,
        { status: 502, retryable: false, details },
      );
  }
  if (e.code && CONNECTION_CODES.has(e.code)) {
    return new ProviderError(`Could not reach Amazon Bedrock in ${target.region} (${e.code}).`, {
      status: 502,
      cause: error,
      details,
    });
  }
  if (name === 'TimeoutError') {
    return new ProviderError('Amazon Bedrock did not respond in time.', {
      status: 502,
      cause: error,
      details,
    });
  }
  const quoted = redactAwsMessage(e.message ?? '');
  return new ProviderError(
    `Amazon Bedrock failed for model ${model} (${status ?? name})${quoted ? `: ${quoted}` : '.'}`,
    { status: 502, cause: error, details },
  );
}
