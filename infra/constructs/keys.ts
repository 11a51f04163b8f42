import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The encryption context every bot-credential envelope carries (shared/ports/key-vault.ts, shared/crypto/envelope.ts). */
export const CREDENTIALS_CONTEXT_KEYS = ['tenantId', 'botProfileId', 'purpose'] as const;
export const CREDENTIALS_PURPOSE = 'bot-credentials';

export interface KeysProps {
  readonly stage: string;
}

/**
 * The customer-managed KMS key that wraps the per-record data keys of bot provider credentials.
 * Retained on stack deletion: without it, credentials stored in a surviving database are unreadable.
 */
export class Keys extends Construct {
  readonly credentialsKey: kms.Key;

  constructor(scope: Construct, id: string, props: KeysProps) {
    super(scope, id);
    this.credentialsKey = new kms.Key(this, 'CredentialsKey', {
      description: `MiniRAG ${props.stage}: envelope encryption of bot provider credentials`,
      alias: `alias/minirag-${props.stage}-credentials`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }

  /**
   * Lets a function role use the key for bot credentials only, through the key policy: the request must carry
   * exactly the credential encryption context keys with `purpose = bot-credentials`.
   */
  allowCredentialUse(role: iam.IRole, access: 'encrypt-and-decrypt' | 'decrypt'): void {
    const actions =
      access === 'encrypt-and-decrypt' ? ['kms:GenerateDataKey', 'kms:Decrypt'] : ['kms:Decrypt'];
    this.credentialsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `BotCredentials${access === 'decrypt' ? 'Decrypt' : 'EncryptDecrypt'}${role.node.addr.slice(0, 8)}`,
        principals: [new iam.ArnPrincipal(role.roleArn)],
        actions,
        // In a key policy "*" means "this key".
        resources: ['*'],
        conditions: {
          StringEquals: { 'kms:EncryptionContext:purpose': CREDENTIALS_PURPOSE },
          'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...CREDENTIALS_CONTEXT_KEYS] },
          Null: { 'kms:EncryptionContextKeys': 'false' },
        },
      }),
    );
  }
}
