import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, type PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadDeployConfig } from '#infra/config.ts';
import { MiniRagStack } from '#infra/stacks/minirag-stack.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

export interface Synthesized {
  readonly stack: MiniRagStack;
  readonly template: Template;
  /** cdk-nag's report (the helper throws when it is not clean; the pack also runs as a synth plugin). */
  readonly nag: PolicyValidationPluginReport;
  readonly errorAnnotations: unknown[];
  /** Logical id of a construct's CloudFormation resource, e.g. to find a function's policy. */
  logicalId(construct: IConstruct): string;
  /** Resolves a token (an ARN, a Ref) as it appears in the template. */
  resolve(value: unknown): unknown;
}

/**
 * Synthesizes the stack the way `npx cdk synth` does (cdk.json feature flags, cdk-nag as a validation plugin)
 * but without bundling, for the given deploy context. Call once per test file: a synth takes a few seconds.
 */
export function synthesize(deployContext: Record<string, unknown>): Synthesized {
  const cdkJson = JSON.parse(readFileSync(`${PROJECT_ROOT}/cdk.json`, 'utf8')) as { context: object };
  const app = new App({ context: { ...cdkJson.context, ...deployContext, 'aws:cdk:bundling-stacks': [] } });
  const config = loadDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new MiniRagStack(app, `MiniRag-${config.stage}`, {
    config,
    projectRoot: PROJECT_ROOT,
  });
  // Run the pack once directly for a readable list; registered as a plugin, it would only fail the synth.
  const nag = new AwsSolutionsChecks().validateScope(app);
  if (!nag.success) {
    const lines = nag.violations.flatMap((v) =>
      v.violatingResources.map((r) => `  ${v.ruleName} at ${r.constructPath}: ${v.description}`),
    );
    throw new Error(`cdk-nag reports unacknowledged findings:\n${lines.join('\n')}`);
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  return {
    stack,
    template,
    nag,
    errorAnnotations: Annotations.fromStack(stack).findError('*', Match.anyValue()),
    logicalId: (construct) => {
      const resource = construct.node.defaultChild ?? construct;
      return Stack.of(construct).getLogicalId(resource as never);
    },
    resolve: (value) => stack.resolve(value),
  };
}

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Sid?: string;
}

export interface PolicyInTemplate {
  readonly where: string;
  readonly roles: unknown[];
  readonly statements: Statement[];
}

/** Every identity policy in the template: AWS::IAM::Policy, AWS::IAM::ManagedPolicy and inline role policies. */
export function identityPolicies(template: Template): PolicyInTemplate[] {
  const policies: PolicyInTemplate[] = [];
  const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of Object.entries(template.findResources(type))) {
      const props = resource.Properties as { PolicyDocument: { Statement: Statement[] }; Roles?: unknown[] };
      policies.push({
        where: id,
        roles: props.Roles ?? [],
        statements: asArray(props.PolicyDocument.Statement),
      });
    }
  }
  for (const [id, resource] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    const inline = (resource.Properties?.Policies ?? []) as {
      PolicyName: string;
      PolicyDocument: { Statement: Statement[] };
    }[];
    for (const policy of inline) {
      policies.push({
        where: `${id}/${policy.PolicyName}`,
        roles: [{ Ref: id }],
        statements: asArray(policy.PolicyDocument.Statement),
      });
    }
  }
  return policies;
}

export const actionsOf = (s: Statement): string[] =>
  s.Action === undefined ? [] : Array.isArray(s.Action) ? s.Action : [s.Action];
export const resourcesOf = (s: Statement): unknown[] =>
  s.Resource === undefined ? [] : Array.isArray(s.Resource) ? s.Resource : [s.Resource];
