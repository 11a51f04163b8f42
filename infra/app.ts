import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, loadDeployConfig } from './config.ts';
import { MiniRagStack } from './stacks/minirag-stack.ts';

/** `npx cdk synth|deploy -c stage=prod -c databaseMode=aurora …` (cdk.json runs this file with tsx). */
const projectRoot = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const app = new App();

try {
  const config = loadDeployConfig((key) => app.node.tryGetContext(key));
  new MiniRagStack(app, `MiniRag-${config.stage}`, {
    config,
    projectRoot,
    description: `MiniRAG multi-tenant RAG platform (${config.stage}, ${config.databaseMode} database)`,
    env: {
      account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
      region: config.region ?? process.env.CDK_DEFAULT_REGION,
    },
  });
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  console.error(error.message);
  process.exit(1);
}

// cdk-nag 3 is a policy validation plugin: any unacknowledged AwsSolutions finding fails the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
