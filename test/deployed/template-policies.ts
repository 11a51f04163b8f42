import { AwsServiceError } from '#test/fakes/aws-json-server.ts';
import type { Authorize } from '#test/fakes/secrets-manager-server.ts';
import type { Template } from './cloud-assembly.ts';

type Json = Record<string, unknown>;
interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: { AWS?: unknown };
  readonly Condition?: Record<string, Record<string, unknown>>;
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '.*')
      .replaceAll('?', '.')}$`,
  );

/**
 * The template's permissions, evaluated for the stand-ins: a call is allowed when an identity policy of the
 * caller's role, or a key policy statement naming that role, allows the action on the resource with every
 * condition met (StringEquals, ForAllValues:StringEquals, Null — the operators the stack uses; any other
 * operator denies). `resolve` turns the template's tokens into the stand-ins' ARNs; `roleOf` maps the
 * caller's access key to its role's logical id. Explicit denies are not modelled (the stack has none).
 */
export function templateAuthorizer(
  template: Template,
  resolve: (value: unknown) => string,
  roleOf: (accessKeyId: string) => string | undefined,
  denials: string[],
): Authorize {
  const identity = new Map<string, Statement[]>();
  const resourcePolicies: { resource: string; statements: Statement[] }[] = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = (r.Properties ?? {}) as Json;
    if (r.Type === 'AWS::IAM::Policy') {
      const statements = asArray((p.PolicyDocument as { Statement: Statement[] }).Statement);
      for (const role of asArray(p.Roles as Json[])) {
        const roleId = String((role as { Ref?: string }).Ref);
        identity.set(roleId, [...(identity.get(roleId) ?? []), ...statements]);
      }
    }
    if (r.Type === 'AWS::KMS::Key') {
      const statements = asArray((p.KeyPolicy as { Statement: Statement[] }).Statement);
      resourcePolicies.push({ resource: resolve({ 'Fn::GetAtt': [id, 'Arn'] }), statements });
    }
  }

  const conditionsMet = (statement: Statement, keys: Readonly<Record<string, string | readonly string[]>>) =>
    Object.entries(statement.Condition ?? {}).every(([operator, tests]) =>
      Object.entries(tests).every(([key, expected]) => {
        const actual = keys[key];
        const allowed = asArray(expected as string | string[]).map(String);
        const values = actual === undefined ? [] : typeof actual === 'string' ? [actual] : [...actual];
        if (operator === 'StringEquals') return values.length > 0 && values.every((v) => allowed.includes(v));
        if (operator === 'ForAllValues:StringEquals') return values.every((v) => allowed.includes(v));
        if (operator === 'Null') return (values.length === 0) === (String(expected) === 'true');
        return false;
      }),
    );
  const allows = (statement: Statement, action: string, resource: string, keys: Json) =>
    statement.Effect === 'Allow' &&
    asArray(statement.Action).some((a) => glob(a).test(action)) &&
    asArray(statement.Resource).some((r) => {
      const arn = resolve(r);
      return arn === '*' || glob(arn).test(resource);
    }) &&
    conditionsMet(statement, keys as Record<string, string | readonly string[]>);

  return (call, action, resource, keys = {}) => {
    const role = roleOf(call.accessKeyId);
    const roleArn = role ? resolve({ 'Fn::GetAtt': [role, 'Arn'] }) : '';
    const byIdentity = (identity.get(role ?? '') ?? []).some((s) => allows(s, action, resource, keys));
    const byResource = resourcePolicies
      .filter((p) => p.resource === resource)
      .some((p) =>
        p.statements.some(
          (s) =>
            asArray(s.Principal?.AWS).some((principal) => resolve(principal) === roleArn) &&
            allows({ ...s, Resource: '*' }, action, resource, keys),
        ),
      );
    if (byIdentity || byResource) return;
    denials.push(`${role ?? call.accessKeyId}: ${action} on ${resource}`);
    throw new AwsServiceError(
      'AccessDeniedException',
      `User: ${roleArn} is not authorized to perform: ${action} on resource: ${resource}`,
    );
  };
}
