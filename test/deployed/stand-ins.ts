import { createHash, randomBytes } from 'node:crypto';
import { type FakeKms, startFakeKms } from '#test/fakes/kms-server.ts';
import { type FakeQdrant, type FakeQdrantOptions, startFakeQdrant } from '#test/fakes/qdrant-server.ts';
import { type FakeSecretsManager, startFakeSecretsManager } from '#test/fakes/secrets-manager-server.ts';
import { type FakeSqs, type QueueDefinition, startFakeSqs } from '#test/fakes/sqs-server.ts';
import { DEPLOYED_CONTEXT, type DeployedFunction, type Template } from './cloud-assembly.ts';
import { templateAuthorizer } from './template-policies.ts';

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

type Json = Record<string, unknown>;

/**
 * Local stand-ins for what the template points the functions at — Secrets Manager, KMS, SQS and Qdrant —
 * and the resolution of the template's CloudFormation tokens to them. Only tokens are replaced: every other
 * variable a function gets is the template's own value. A token this file has no stand-in for fails the
 * test, so a new resource wired into a function cannot go unnoticed.
 */
export interface StandIns {
  readonly secretsManager: FakeSecretsManager;
  readonly kms: FakeKms;
  readonly sqs: FakeSqs;
  readonly qdrant: FakeQdrant;
  /** Calls the template's policies refused. */
  readonly denials: string[];
  /** A token → its stand-in value. */
  resolve(value: unknown): string;
  /** The ARN of the secret resource with this logical id. */
  secretArn(logicalId: string): string;
  /** The logical id of the queue / dead-letter queue a function's env names. */
  queueName(logicalId: string): string;
  /** A function's environment from the template, tokens resolved. */
  environmentOf(fn: DeployedFunction): Record<string, string>;
  /** The access key id a function's instance signs with (its role). */
  accessKeyOf(fn: DeployedFunction): string;
  close(): Promise<void>;
}

export async function startStandIns(
  template: Template,
  options: { readonly qdrant?: FakeQdrantOptions } = {},
): Promise<StandIns> {
  const resources = template.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const suffix = () => randomBytes(3).toString('hex');
  const secretArns = new Map(
    ofType('AWS::SecretsManager::Secret').map(([id]) => [
      id,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-${suffix()}`,
    ]),
  );
  const keys = ofType('AWS::KMS::Key');
  if (keys.length !== 1)
    throw new Error(`the harness stands in for one KMS key, the template has ${keys.length}`);
  const [keyId] = keys[0]!;
  const keyUuid = crypto.randomUUID();
  const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyUuid}`;

  const queueDefinitions: QueueDefinition[] = ofType('AWS::SQS::Queue').map(([id, r]) => {
    const p = (r.Properties ?? {}) as {
      VisibilityTimeout?: number;
      RedrivePolicy?: { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number };
    };
    return {
      name: id,
      visibilityTimeoutSeconds: p.VisibilityTimeout ?? 30,
      ...(p.RedrivePolicy
        ? {
            redrive: {
              deadLetterQueue: p.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0],
              maxReceiveCount: p.RedrivePolicy.maxReceiveCount,
            },
          }
        : {}),
    };
  });

  const roleByKey = new Map<string, string>();
  const denials: string[] = [];
  let sqs: FakeSqs;
  let qdrant: FakeQdrant;

  const resolve = (value: unknown): string => {
    if (typeof value === 'string') return value;
    const token = value as Json;
    if (token && 'Ref' in token) {
      const id = String(token.Ref);
      const pseudo: Record<string, string> = {
        'AWS::Region': REGION,
        'AWS::AccountId': ACCOUNT,
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[id]) return pseudo[id];
      const type = resources[id]?.Type;
      if (type === 'AWS::SecretsManager::Secret') return secretArns.get(id)!;
      if (type === 'AWS::SQS::Queue') return sqs.urlOf(id);
      if (type === 'AWS::KMS::Key') return keyUuid;
      // The originals bucket: named, so IAM statements resolve; these flows store no file (no S3 stand-in).
      if (type === 'AWS::S3::Bucket') return `minirag-${id.toLowerCase()}`;
      throw new Error(`no stand-in for { Ref: ${id} } (${type ?? 'unknown resource'})`);
    }
    if (token && 'Fn::GetAtt' in token) {
      const [id, attribute] = token['Fn::GetAtt'] as [string, string];
      const type = resources[id]?.Type;
      if (attribute === 'Arn' && type === 'AWS::KMS::Key' && id === keyId) return keyArn;
      if (attribute === 'Arn' && type === 'AWS::SQS::Queue') return sqs.arnOf(id);
      if (attribute === 'Arn' && type === 'AWS::IAM::Role') return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      if (attribute === 'Arn' && type === 'AWS::S3::Bucket')
        return `arn:aws:s3:::minirag-${id.toLowerCase()}`;
      throw new Error(
        `no stand-in for { Fn::GetAtt: [${id}, ${attribute}] } (${type ?? 'unknown resource'})`,
      );
    }
    if (token && 'Fn::Join' in token) {
      const [separator, parts] = token['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    throw new Error(`no stand-in for the token ${JSON.stringify(value)}`);
  };
  const authorize = templateAuthorizer(template, resolve, (key) => roleByKey.get(key), denials);

  const secretsManager = await startFakeSecretsManager({ authorize });
  const kms = await startFakeKms({ keyArn, authorize });
  sqs = await startFakeSqs({ queues: queueDefinitions, region: REGION, account: ACCOUNT, authorize });
  qdrant = await startFakeQdrant(options.qdrant);

  for (const [id, r] of ofType('AWS::SecretsManager::Secret')) {
    const p = (r.Properties ?? {}) as {
      SecretString?: string;
      GenerateSecretString?: { PasswordLength?: number };
    };
    // As CloudFormation creates them: the literal value (a placeholder) or a generated password.
    const value =
      p.SecretString ?? randomBytes(p.GenerateSecretString?.PasswordLength ?? 32).toString('base64url');
    secretsManager.put(
      secretArns.get(id)!,
      value.slice(0, p.GenerateSecretString?.PasswordLength ?? value.length),
    );
  }

  return {
    secretsManager,
    kms,
    sqs,
    qdrant,
    denials,
    resolve,
    secretArn: (id) =>
      secretArns.get(id) ??
      (() => {
        throw new Error(`no secret ${id}`);
      })(),
    queueName: (id) => id,
    environmentOf(fn) {
      return Object.fromEntries(
        Object.entries(fn.environment).map(([name, value]) => {
          const resolved = resolve(value);
          // The Qdrant URL is a deploy-time context value, not a token: it too names a service we stand in for.
          return [name, resolved === DEPLOYED_CONTEXT.qdrantUrl ? qdrant.url : resolved];
        }),
      );
    },
    accessKeyOf(fn) {
      const key = `ASIA${createHash('sha256').update(fn.role).digest('hex').slice(0, 16).toUpperCase()}`;
      roleByKey.set(key, fn.role);
      return key;
    },
    async close() {
      await Promise.all([secretsManager.close(), kms.close(), sqs.close(), qdrant.close()]);
    },
  };
}
