import { describe, expect, it } from 'vitest';
import { loadDeployConfig } from '#infra/config.ts';
import { expectNagClean, functionProps, stackFunctions } from './stack-assertions.ts';
import { actionsOf, identityPolicies, resourcesOf, synthesize } from './synth.ts';

const CHAT = 'anthropic.claude-haiku-4-5-20251001-v1:0';
const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const RERANK = 'amazon.rerank-v1:0';

/** A deployment that uses only Amazon Bedrock: no third-party key anywhere. */
const s = synthesize({
  stage: 'bedrock',
  thirdPartyKeys: false,
  embeddingProvider: 'bedrock',
  embeddingModel: 'amazon.titan-embed-text-v2:0',
  embeddingDimensions: 1024,
  bedrockModels: [CHAT, PROFILE, RERANK].join(','),
});
const fns = stackFunctions(s.stack);

/** An ARN as text: `Fn::Join` flattened, pseudo parameters written as `{Region}`-style placeholders. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref) return `{${v.Ref.replace('AWS::', '')}}`;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(arnText).join(v['Fn::Join'][0]);
  return JSON.stringify(value);
}

/** The Bedrock grants of one function's role: action → resources (as resolved JSON). */
function bedrockGrants(fn: (typeof fns)[keyof typeof fns]) {
  const role = JSON.stringify(s.resolve(fn.function.role!.roleName));
  const grants = new Map<string, string[]>();
  for (const policy of identityPolicies(s.template)) {
    if (!policy.roles.some((r) => JSON.stringify(r) === role)) continue;
    for (const statement of policy.statements) {
      for (const action of actionsOf(statement).filter((a) => a.startsWith('bedrock:'))) {
        grants.set(action, [
          ...(grants.get(action) ?? []),
          ...resourcesOf(statement).map((r) => arnText(s.resolve(r))),
        ]);
      }
    }
  }
  return grants;
}

describe('MiniRAG stack with only Amazon Bedrock', () => {
  it('when synthesized with AwsSolutions checks then there is no unacknowledged finding', () => {
    expectNagClean(s);
  });

  it('when no third-party provider is configured then no OpenAI/Anthropic/Cohere secret exists and no function names one', () => {
    const descriptions = Object.values(s.template.findResources('AWS::SecretsManager::Secret')).map((r) =>
      String(r.Properties.Description),
    );
    expect(descriptions.some((d) => /OpenAI|Anthropic|Cohere/.test(d))).toBe(false);
    for (const fn of Object.values(fns)) {
      const env = Object.keys(functionProps(s, fn).Environment.Variables);
      expect(env.filter((k) => /OPENAI|ANTHROPIC|COHERE/.test(k))).toEqual([]);
    }
  });

  it('when bots answer then api and chat-stream may invoke exactly the listed models and profiles, never *', () => {
    for (const fn of [fns.api, fns.chat]) {
      const grants = bedrockGrants(fn);
      const invoke = [...new Set(grants.get('bedrock:InvokeModel'))].sort();
      expect(invoke).toEqual(
        [
          `arn:aws:bedrock:{Region}::foundation-model/${CHAT}`,
          `arn:aws:bedrock:{Region}:{AccountId}:inference-profile/${PROFILE}`,
          // A cross-region profile routes to its model in any region of its geography.
          'arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
          `arn:aws:bedrock:{Region}::foundation-model/${RERANK}`,
          'arn:aws:bedrock:{Region}::foundation-model/amazon.titan-embed-text-v2:0',
        ].sort(),
      );
      expect([...new Set(grants.get('bedrock:InvokeModelWithResponseStream'))].sort()).toEqual(invoke);
      // Rerank has no resource type in IAM; InvokeModel on the rerank model ARN is what limits it.
      expect(grants.get('bedrock:Rerank')).toEqual(['*']);
      for (const [action, resources] of grants) {
        if (action !== 'bedrock:Rerank') expect(resources).not.toContain('*');
      }
    }
  });

  it('when ingest embeds then it may invoke the embedding model only, and cannot rerank or chat', () => {
    const grants = bedrockGrants(fns.ingest);
    expect(grants.get('bedrock:InvokeModel')).toEqual([
      'arn:aws:bedrock:{Region}::foundation-model/amazon.titan-embed-text-v2:0',
    ]);
    expect(grants.has('bedrock:Rerank')).toBe(false);
    expect(bedrockGrants(fns.migrate).size).toBe(0);
  });

  it('when the functions are configured then they get the Bedrock embedder, region and allow-list', () => {
    for (const fn of [fns.api, fns.chat, fns.ingest]) {
      expect(functionProps(s, fn).Environment.Variables).toMatchObject({
        EMBEDDING_PROVIDER: 'bedrock',
        EMBEDDING_MODEL: 'amazon.titan-embed-text-v2:0',
        EMBEDDING_DIMENSIONS: '1024',
        BEDROCK_REGION: { Ref: 'AWS::Region' },
        BEDROCK_MODELS: [CHAT, PROFILE, RERANK].join(','),
      });
    }
  });

  it('when Bedrock is not listed then no function gets any bedrock action (the default stack)', () => {
    const plain = synthesize({ stage: 'plain' });
    const anyBedrock = identityPolicies(plain.template).some((p) =>
      p.statements.some((st) => actionsOf(st).some((a) => a.startsWith('bedrock:'))),
    );
    expect(anyBedrock).toBe(false);
  });

  it('when the context is inconsistent then synth refuses with the key to fix', () => {
    const read = (ctx: Record<string, unknown>) => (k: string) => ctx[k];
    expect(() => loadDeployConfig(read({ embeddingProvider: 'bedrock' }))).toThrow(/-c embeddingModel/);
    expect(() => loadDeployConfig(read({ thirdPartyKeys: 'false' }))).toThrow(/-c thirdPartyKeys/);
  });
});
