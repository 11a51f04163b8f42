import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** Cross-region inference profile ids start with a geography: `us.anthropic.claude-…`, `global.…`. */
const INFERENCE_PROFILE = /^(us|eu|apac|us-gov|global|jp|au|ca)\.(.+)$/;

/** Rerank models (Amazon Rerank, Cohere Rerank on Bedrock) are also called through the agent runtime's Rerank. */
export const isRerankModel = (model: string): boolean => /(^|[./])[a-z]+\.rerank-/.test(model);

/**
 * The ARNs one listed model id needs `bedrock:InvokeModel*` on: a foundation model in the Bedrock region;
 * for a cross-region inference profile, the profile in this account and region plus its foundation model in
 * every region the profile may route to (Bedrock authorizes both); an ARN as given.
 */
export function bedrockModelArns(scope: IConstruct, model: string, region: string): string[] {
  const stack = Stack.of(scope);
  if (model.startsWith('arn:')) return [model];
  const profile = INFERENCE_PROFILE.exec(model);
  const foundation = (id: string, inRegion: string) =>
    Arn.format(
      {
        service: 'bedrock',
        region: inRegion,
        account: '',
        resource: 'foundation-model',
        resourceName: id,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      stack,
    );
  if (!profile) return [foundation(model, region)];
  return [
    Arn.format(
      {
        service: 'bedrock',
        region,
        resource: 'inference-profile',
        resourceName: model,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      },
      stack,
    ),
    foundation(profile[2]!, '*'),
  ];
}

/**
 * Lets a function call the listed Bedrock models and nothing else: InvokeModel (Converse, embeddings) and
 * InvokeModelWithResponseStream (ConverseStream) on their ARNs only. When a rerank model is listed,
 * `bedrock:Rerank` too: that action has no resource type in IAM, so it takes `*`, and InvokeModel on the
 * rerank model's ARN is what limits which model it can use.
 */
export function grantBedrockModels(role: iam.IRole, models: readonly string[], region: string): void {
  if (models.length === 0) return;
  const resources = [...new Set(models.flatMap((m) => bedrockModelArns(role, m, region)))];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'InvokeListedBedrockModels',
      actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
      resources,
    }),
  );
  if (models.some(isRerankModel)) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RerankWithListedModels',
        actions: ['bedrock:Rerank'],
        resources: ['*'],
      }),
    );
  }
  // The findings are on the role's default policy; each one is acknowledged by name, not the rule at large.
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  for (const model of models) {
    const profile = INFERENCE_PROFILE.exec(model);
    if (!profile || model.startsWith('arn:')) continue;
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/${profile[2]}]`,
      reason:
        'A cross-region inference profile routes each request to its foundation model in any region of its geography; Bedrock authorizes that model in the region it lands in, so the model (and only it) is granted in region *.',
    });
  }
  if (models.some(isRerankModel)) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'bedrock:Rerank has no resource type in IAM (it must be granted on *); which model it may use is limited by InvokeModel on the listed rerank model ARNs only.',
    });
  }
}
