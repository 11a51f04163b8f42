import { expect } from 'vitest';
import type { AppFunction } from '#infra/constructs/app-function.ts';
import { CREDENTIALS_CONTEXT_KEYS, CREDENTIALS_PURPOSE } from '#infra/constructs/keys.ts';
import type { MiniRagStack } from '#infra/stacks/minirag-stack.ts';
import { actionsOf, identityPolicies, resourcesOf, type Statement, type Synthesized } from './synth.ts';

/** Assertions shared by the stack tests of each database profile. */

/** The stack's four functions, by the names the tests use. */
export function stackFunctions(
  stack: MiniRagStack,
): Record<'api' | 'ingest' | 'chat' | 'migrate', AppFunction> {
  return {
    api: stack.api.function,
    ingest: stack.ingest.function,
    chat: stack.chatStream.function,
    migrate: stack.migrations.function,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are untyped JSON.
export function functionProps(s: Synthesized, fn: AppFunction): Record<string, any> {
  return s.template.toJSON().Resources[s.logicalId(fn.function)].Properties;
}

export function expectNagClean(s: Synthesized): void {
  expect(s.nag.violations.map((v) => v.ruleName)).toEqual([]);
  expect(s.nag.success).toBe(true);
  expect(s.errorAnnotations).toEqual([]);
}

/**
 * X-Ray's write actions take no resource but `*` (active tracing adds them to every function's role): the
 * one documented exception below.
 */
const XRAY_WRITE_ACTIONS = ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

/**
 * No identity policy allows a wildcard action (`*`, `s3:*`, `kms:Generate*`) or a `*` resource, except
 * X-Ray's write actions.
 */
export function expectLeastPrivilegeIdentityPolicies(s: Synthesized): void {
  const policies = identityPolicies(s.template);
  expect(policies.length).toBeGreaterThan(0);
  const problems: string[] = [];
  for (const policy of policies) {
    for (const statement of policy.statements.filter((st) => st.Effect === 'Allow')) {
      for (const action of actionsOf(statement)) {
        if (action.includes('*')) problems.push(`${policy.where}: action ${action}`);
      }
      const xrayOnly = actionsOf(statement).every((a) => XRAY_WRITE_ACTIONS.includes(a));
      for (const resource of resourcesOf(statement)) {
        if (resource === '*' && !xrayOnly)
          problems.push(`${policy.where}: resource * for ${actionsOf(statement).join(',')}`);
      }
    }
  }
  expect(problems).toEqual([]);
}

/** The secrets (resolved ARNs, JSON-encoded) a function's policies allow it to read. */
export function secretsReadBy(s: Synthesized, fn: AppFunction): Set<string> {
  const role = JSON.stringify(s.resolve(fn.function.role!.roleName));
  const read = new Set<string>();
  for (const policy of identityPolicies(s.template)) {
    if (!policy.roles.some((r) => JSON.stringify(r) === role)) continue;
    for (const statement of policy.statements) {
      if (!actionsOf(statement).includes('secretsmanager:GetSecretValue')) continue;
      for (const resource of resourcesOf(statement)) read.add(JSON.stringify(resource));
    }
  }
  return read;
}

/**
 * The KMS actions the key policy grants each principal role (by logical id), checking on the way that every
 * non-root grant is limited to the bot-credentials encryption context.
 */
export function keyPolicyGrants(s: Synthesized): Map<string, string[]> {
  const keys = Object.values(s.template.findResources('AWS::KMS::Key'));
  expect(keys).toHaveLength(1);
  const statements = keys[0]!.Properties.KeyPolicy.Statement as Statement[];
  const grants = new Map<string, string[]>();
  for (const statement of statements) {
    const principal = (statement.Principal as { AWS?: unknown }).AWS;
    const roleArn = principal as { 'Fn::GetAtt'?: [string, string] };
    if (!roleArn['Fn::GetAtt']) continue; // the account root statement that enables IAM policies
    expect(statement.Condition).toEqual({
      StringEquals: { 'kms:EncryptionContext:purpose': CREDENTIALS_PURPOSE },
      'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': [...CREDENTIALS_CONTEXT_KEYS] },
      Null: { 'kms:EncryptionContextKeys': 'false' },
    });
    grants.set(roleArn['Fn::GetAtt'][0], [...actionsOf(statement)].sort());
  }
  return grants;
}

/** Powertools/Node settings every function has (and active X-Ray tracing), plus exactly `extra`. */
export function expectCommonEnvironment(
  s: Synthesized,
  fn: AppFunction,
  service: string,
  extra: string[],
  logLevel = 'INFO',
): void {
  const env = functionProps(s, fn).Environment.Variables as Record<string, unknown>;
  expect(env).toMatchObject({
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_METRICS_NAMESPACE: 'MiniRAG',
    MINIRAG_STAGE: s.stack.node.tryGetContext('stage') ?? expect.any(String),
    LOG_LEVEL: logLevel,
  });
  expect(functionProps(s, fn).TracingConfig).toEqual({ Mode: 'Active' });
  const common = [
    'NODE_OPTIONS',
    'POWERTOOLS_SERVICE_NAME',
    'POWERTOOLS_METRICS_NAMESPACE',
    'MINIRAG_STAGE',
    'LOG_LEVEL',
  ];
  expect(Object.keys(env).sort()).toEqual([...common, ...extra].sort());
}
