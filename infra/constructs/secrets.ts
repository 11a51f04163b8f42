import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface SecretsProps {
  readonly stage: string;
  /** Creates the Qdrant API key secret (only when the vector store is Qdrant). */
  readonly qdrant: boolean;
  /** OpenAI and Anthropic platform key secrets; default true, false for a Bedrock-only deployment. */
  readonly thirdPartyKeys?: boolean;
  /** The Cohere API key secret, for reranking with Cohere's API. */
  readonly cohere?: boolean;
}

/** Value of a secret the operator has not filled in yet; the app treats a secret with it as unset. */
import { SECRET_PLACEHOLDER as PLACEHOLDER } from '#shared/config/secrets.ts';

export { PLACEHOLDER };

/**
 * The platform's secrets. Generated here: the access-token signing key and the platform admin token.
 * Created with a placeholder for the operator to fill (`aws secretsmanager put-secret-value`): the platform
 * OpenAI and Anthropic keys and the Qdrant API key. Each function is granted read on exactly the ones it uses
 * by the stack. No fixed names: retained secrets would otherwise block a later redeploy of the same stage;
 * the stack outputs their ARNs instead.
 */
export class Secrets extends Construct {
  readonly jwtSigningKey: secretsmanager.Secret;
  readonly adminToken: secretsmanager.Secret;
  /** Absent in a deployment without third-party model providers (Bedrock only). */
  readonly openaiApiKey?: secretsmanager.Secret;
  readonly anthropicApiKey?: secretsmanager.Secret;
  readonly cohereApiKey?: secretsmanager.Secret;
  readonly qdrantApiKey?: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SecretsProps) {
    super(scope, id);

    this.jwtSigningKey = new secretsmanager.Secret(this, 'JwtSigningKey', {
      description: `MiniRAG ${props.stage}: HS256 key that signs user access tokens`,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.jwtSigningKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the signing key invalidates every issued access token at once; tokens live 15 minutes, so the operator rotates it by hand (put-secret-value) in a maintenance window.',
    });

    this.adminToken = new secretsmanager.Secret(this, 'AdminToken', {
      description: `MiniRAG ${props.stage}: platform admin token (creates and suspends tenants)`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.adminToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "The admin token is a static bearer credential held by the operator's tooling; there is no rotation Lambda for it, the operator rotates it with put-secret-value.",
    });

    const placeholder = (name: string, description: string) => {
      const secret = new secretsmanager.Secret(this, name, {
        description: `MiniRAG ${props.stage}: ${description} (fill in after deploy; "${PLACEHOLDER}" means not configured)`,
        secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER),
        // Operator-entered values: keep them if the stack goes away.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Third-party API key issued by the vendor; it can only be rotated in the vendor console, then pasted here.',
      });
      return secret;
    };
    if (props.thirdPartyKeys !== false) {
      this.openaiApiKey = placeholder(
        'OpenaiApiKey',
        'Platform OpenAI API key (embeddings, default chat model)',
      );
      this.anthropicApiKey = placeholder(
        'AnthropicApiKey',
        'Platform Anthropic API key (default chat model)',
      );
    }
    if (props.cohere) this.cohereApiKey = placeholder('CohereApiKey', 'Cohere API key (reranking)');
    if (props.qdrant) this.qdrantApiKey = placeholder('QdrantApiKey', 'Qdrant Cloud API key');
  }
}
