import { type AwsCall, type AwsJsonServer, AwsServiceError, startAwsJsonServer } from './aws-json-server.ts';

/**
 * Decides whether a call may act on a resource (the harness evaluates the template's IAM and key policies),
 * given the request's condition keys (e.g. `kms:EncryptionContext:purpose`); throws AccessDenied if not.
 */
export type Authorize = (
  call: AwsCall,
  action: string,
  resourceArn: string,
  conditionKeys?: Readonly<Record<string, string | readonly string[]>>,
) => void;

export interface FakeSecretsManager extends AwsJsonServer {
  /** Creates or replaces a secret's value, as `aws secretsmanager put-secret-value` does. */
  put(arn: string, value: string): void;
  /** The current value, as the operator reads it (`get-secret-value`). */
  get(arn: string): string | undefined;
}

/**
 * Secrets Manager over its real wire protocol (awsJson1_1, `secretsmanager.GetSecretValue`), holding
 * secrets by ARN. Only GetSecretValue: the functions never write secrets.
 */
export async function startFakeSecretsManager(
  options: { authorize?: Authorize } = {},
): Promise<FakeSecretsManager> {
  const secrets = new Map<string, { value: string; versionId: string; created: number }>();
  const server = await startAwsJsonServer(
    { targetPrefix: 'secretsmanager', jsonVersion: '1.1', signingName: 'secretsmanager' },
    {
      GetSecretValue(input, call) {
        const id = String(input.SecretId ?? '');
        const secret = secrets.get(id);
        options.authorize?.(call, 'secretsmanager:GetSecretValue', id);
        if (!secret) {
          throw new AwsServiceError(
            'ResourceNotFoundException',
            "Secrets Manager can't find the specified secret.",
          );
        }
        return {
          ARN: id,
          Name: id.split(':secret:')[1]?.replace(/-[A-Za-z0-9]{6}$/, ''),
          SecretString: secret.value,
          VersionId: secret.versionId,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: secret.created,
        };
      },
    },
  );
  return {
    ...server,
    put(arn, value) {
      secrets.set(arn, { value, versionId: crypto.randomUUID(), created: Date.now() / 1000 });
    },
    get: (arn) => secrets.get(arn)?.value,
  };
}
