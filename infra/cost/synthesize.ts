import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { loadDeployConfig } from '../config.ts';
import { MiniRagStack } from '../stacks/minirag-stack.ts';
import type { CfnTemplate, FunctionIds } from './estimate.ts';

export interface SynthesizedForCost {
  readonly template: CfnTemplate;
  readonly functions: FunctionIds;
  readonly stackName: string;
}

/**
 * The template `cdk synth` would produce for this context, without bundling the functions (the estimate
 * reads resources and settings, not code), with the feature flags of cdk.json.
 */
export function synthesizeForCost(projectRoot: string, context: Record<string, string>): SynthesizedForCost {
  const cdkJson = JSON.parse(readFileSync(`${projectRoot}/cdk.json`, 'utf8')) as { context: object };
  const app = new App({ context: { ...cdkJson.context, ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = loadDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new MiniRagStack(app, `MiniRag-${config.stage}`, { config, projectRoot });
  const id = (fn: { node: { defaultChild?: unknown } }) =>
    Stack.of(stack).getLogicalId(fn.node.defaultChild as never);
  const template = app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  return {
    template,
    stackName: stack.stackName,
    functions: {
      api: id(stack.api.function.function),
      chat: id(stack.chatStream.function.function),
      ingest: id(stack.ingest.function.function),
    },
  };
}
