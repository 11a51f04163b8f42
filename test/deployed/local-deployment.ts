import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import postgres from 'postgres';
import type { FakeQdrantOptions } from '#test/fakes/qdrant-server.ts';
import { deployedFunctions, readTemplate, synthesizedAssembly, type Template } from './cloud-assembly.ts';
import type { EventSourceMapping } from './event-sources.ts';
import {
  type FunctionInstance,
  node22,
  prepareSandboxRoot,
  startFunctionInstance,
} from './function-instance.ts';
import { REGION, type StandIns, startStandIns } from './stand-ins.ts';

export type FunctionName = 'api' | 'ingest' | 'chat-stream' | 'migrate';

/**
 * The synthesized stack "deployed" on this machine: the template's functions as Node 22 processes, its
 * secrets, key and queues as stand-ins, and a fresh database on the real PostgreSQL server, whose URL an
 * operator would put into the database secret (the stack creates it holding the placeholder).
 */
export interface LocalDeployment {
  readonly template: Template;
  readonly standIns: StandIns;
  /** postgres:// URL of this deployment's own database (superuser; for the test's own checks). */
  readonly databaseUrl: string;
  /** Logical id of the secret a function's env var names, e.g. DATABASE_SECRET_ARN → DatabaseDatabaseUrl…. */
  secretOf(fn: FunctionName, variable: string): string;
  /** A fresh execution environment (a cold start) of a function. */
  start(fn: FunctionName): Promise<FunctionInstance>;
  /** The ingest function's SQS event source mapping, as the template configures it. */
  readonly ingestMapping: EventSourceMapping;
  /** An SQS client signing as a function's role (the event source mapping polls with the function's role). */
  sqsClientAs(fn: FunctionName): SQSClient;
  dispose(): Promise<void>;
}

export async function startLocalDeployment(
  serverUrl: string,
  options: { readonly qdrant?: FakeQdrantOptions } = {},
): Promise<LocalDeployment> {
  const assembly = await synthesizedAssembly();
  const template = await readTemplate(assembly);
  const functions = new Map(deployedFunctions(assembly, template).map((f) => [f.name as FunctionName, f]));
  const standIns = await startStandIns(template, options);
  const root = await mkdtemp(join(tmpdir(), 'minirag-sandbox-'));
  await prepareSandboxRoot(root);
  const node = node22();

  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const database = `minirag_deployed_${randomBytes(6).toString('hex')}`;
  await admin.unsafe(`create database ${database}`);
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;

  const instances: FunctionInstance[] = [];
  const clients: SQSClient[] = [];
  const fnOf = (name: FunctionName) => {
    const fn = functions.get(name);
    if (!fn) throw new Error(`the template has no ${name} function`);
    return fn;
  };
  const endpoints = {
    AWS_ENDPOINT_URL_SQS: standIns.sqs.url,
    AWS_ENDPOINT_URL_KMS: standIns.kms.url,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: standIns.secretsManager.url,
  };

  const mappings = Object.values(template.Resources).filter(
    (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
  );
  const ingestMapping = mappings
    .map((r) => r.Properties as Record<string, unknown>)
    .find((p) => (p.FunctionName as { Ref?: string }).Ref === fnOf('ingest').logicalId);
  if (!ingestMapping) throw new Error('the ingest function has no event source mapping');
  const queueArn = standIns.resolve(ingestMapping.EventSourceArn);
  const queueId = (ingestMapping.EventSourceArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

  return {
    template,
    standIns,
    databaseUrl: url.toString(),
    secretOf(name, variable) {
      const value = fnOf(name).environment[variable] as { Ref?: string } | undefined;
      if (!value?.Ref) throw new Error(`${name} has no secret in ${variable}`);
      return value.Ref;
    },
    async start(name) {
      const fn = fnOf(name);
      const instance = await startFunctionInstance(fn, {
        root,
        node,
        environment: standIns.environmentOf(fn),
        accessKeyId: standIns.accessKeyOf(fn),
        endpoints,
      });
      instances.push(instance);
      return instance;
    },
    ingestMapping: {
      queueUrl: standIns.sqs.urlOf(queueId),
      queueArn,
      batchSize: Number(ingestMapping.BatchSize ?? 10),
      reportBatchItemFailures: ((ingestMapping.FunctionResponseTypes as string[]) ?? []).includes(
        'ReportBatchItemFailures',
      ),
    },
    sqsClientAs(name) {
      const client = new SQSClient({
        region: REGION,
        endpoint: standIns.sqs.url,
        credentials: { accessKeyId: standIns.accessKeyOf(fnOf(name)), secretAccessKey: 'stand-in' },
      });
      clients.push(client);
      return client;
    },
    async dispose() {
      await Promise.all(instances.map((i) => i.stop()));
      for (const c of clients) c.destroy();
      await standIns.close();
      await admin.unsafe(`drop database if exists ${database} with (force)`);
      await admin.end();
      await rm(root, { recursive: true, force: true });
    },
  };
}
