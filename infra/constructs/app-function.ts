import { AssetHashType, DockerImage, Duration, type RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bundleFunction, type FunctionBundleSpec } from './function-bundle.ts';
import { powertoolsEnvironment } from './observability.ts';

/** Where the functions of a VPC-attached deployment run (aurora mode); absent in external mode. */
export interface FunctionNetwork {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

export interface AppFunctionProps extends FunctionBundleSpec {
  /** Repository root: esbuild resolves the package.json `imports` map (`#shared/*`) from here. */
  readonly projectRoot: string;
  /** Powertools service name, e.g. `minirag-api`. */
  readonly serviceName: string;
  readonly description: string;
  /** The deployment's stage (a metric dimension). */
  readonly stage: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly environment?: Record<string, string>;
  readonly network?: FunctionNetwork;
  readonly reservedConcurrentExecutions?: number;
  /** `/tmp` in MiB (Lambda's default: 512). */
  readonly ephemeralStorageMb?: number;
}

/**
 * A MiniRAG Lambda function: Node 22 on ARM64, bundled locally by esbuild as split, minified ESM with source
 * maps (function-bundle.ts; `@aws-sdk/*` comes from the runtime), its own log group with a retention, and
 * the Powertools settings.
 *
 * A plain lambda.Function with a local bundling step rather than NodejsFunction: NodejsFunction builds one
 * output file, and code splitting (what keeps provider SDKs, the tokenizer and the extractors out of a cold
 * start that does not need them) needs an output directory.
 */
export class AppFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });

    const spec: FunctionBundleSpec = {
      entry: props.entry,
      extraEntries: props.extraEntries,
      copyDirs: props.copyDirs,
      copyFiles: props.copyFiles,
    };
    this.function = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(props.projectRoot, {
        // The hash of what was built, so an unchanged bundle is not re-uploaded.
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Never used: local bundling always succeeds or throws (esbuild is a dependency, no Docker).
          image: DockerImage.fromRegistry('dummy'),
          // Never run either, but part of the key CDK caches bundles under: without what this function is
          // built from in it, every function of the stack would get the first one's bundle.
          command: ['bundle', JSON.stringify(spec)],
          local: {
            tryBundle(outputDir: string) {
              bundleFunction(props.projectRoot, spec, outputDir);
              return true;
            },
          },
        },
      }),
      // index.mjs (HANDLER_FILE) exports `handler`.
      handler: 'index.handler',
      description: props.description,
      // Pinned rather than NODEJS_LATEST so a CDK upgrade never changes the runtime under a deployed app.
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // X-Ray: the function's segment, with Powertools Tracer subsegments for the database, vector store,
      // embedder and provider calls.
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ...(props.ephemeralStorageMb ? { ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMb) } : {}),
      vpc: props.network?.vpc,
      vpcSubnets: props.network?.subnets,
      securityGroups: props.network?.securityGroups,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...powertoolsEnvironment(props.serviceName, props.logLevel, props.stage),
        ...props.environment,
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
    if (role) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing grants xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray only supports on all resources.',
      });
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
