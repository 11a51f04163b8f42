import { Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type ICommandHooks,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { powertoolsEnvironment } from './observability.ts';

/** Some CommonJS dependencies call require() at run time; an ESM bundle has none unless we make one. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * How every function is bundled (esbuild through NodejsFunction). Exported so tests can build a bundle the way
 * a deployment does and inspect it (test/infra/api-bundle.test.ts).
 */
export const BUNDLE_OPTIONS = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  externalModules: ['@aws-sdk/*'],
  banner: ESM_REQUIRE_BANNER,
} as const;

/** Where the functions of a VPC-attached deployment run (aurora mode); absent in external mode. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

export interface AppFunctionProps {
  /** Absolute path of the handler module (it exports `handler`). */
  readonly entry: string;
  /** Repository root: esbuild resolves the package.json `imports` map (`#shared/*`) from here. */
  readonly projectRoot: string;
  /** Powertools service name, e.g. `minirag-api`. */
  readonly serviceName: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly environment?: Record<string, string>;
  readonly network?: FunctionNetwork;
  readonly reservedConcurrentExecutions?: number;
  readonly commandHooks?: ICommandHooks;
}

/**
 * A MiniRAG Lambda function: Node 22 on ARM64, bundled locally by esbuild as minified ESM with source maps
 * (`@aws-sdk/*` comes from the runtime), its own log group with a retention, and the Powertools settings.
 */
export class AppFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      description: props.description,
      // Pinned rather than NODEJS_LATEST so a CDK upgrade never changes the runtime under a deployed app.
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network?.securityGroups,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...powertoolsEnvironment(props.serviceName, props.logLevel),
        ...props.environment,
      },
      bundling: {
        ...BUNDLE_OPTIONS,
        mainFields: [...BUNDLE_OPTIONS.mainFields],
        externalModules: [...BUNDLE_OPTIONS.externalModules],
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: false,
        commandHooks: props.commandHooks,
      },
    });

    const role = this.function.role;
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'AWSLambdaBasicExecutionRole only grants CreateLogStream/PutLogEvents; the function writes to its own log group.',
      });
      if (props.network) {
        Validations.of(role).acknowledge({
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          reason:
            'AWSLambdaVPCAccessExecutionRole is the minimal policy Lambda needs to manage its ENIs in the private subnets (the EC2 network-interface actions do not support resource-level scoping).',
        });
      }
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose (the runtime the app and its dependencies are tested on); moving to a newer runtime is a deliberate upgrade.',
    });
  }

  /** Seconds the function may run; the ingest queue's visibility timeout is derived from it. */
  get timeout(): Duration {
    return this.function.timeout ?? Duration.seconds(3);
  }
}
