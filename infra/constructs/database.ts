import { Duration, RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IConstruct } from 'constructs';
import type { FunctionNetwork } from './app-function.ts';
import { PLACEHOLDER } from './secrets.ts';

export const DATABASE_NAME = 'minirag';
export const DATABASE_USER = 'minirag';

export interface DatabaseProps {
  readonly stage: string;
  readonly mode: 'serverless' | 'aurora' | 'external';
  /** external mode: an existing secret whose SecretString is the postgres:// URL. */
  readonly existingSecretArn?: string;
  readonly deletionProtection: boolean;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  /** serverless mode: idle time before the cluster pauses. */
  readonly autoPause: Duration;
  readonly natGateways: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Where MiniRAG's PostgreSQL lives.
 * - `aurora`: a VPC (public subnets for NAT, private subnets for the functions and RDS Proxy, isolated subnets
 *   for the database), Aurora PostgreSQL Serverless v2 (pgvector is bundled with Aurora PostgreSQL 16) with a
 *   generated RDS-style JSON secret, and an RDS Proxy in front of it so that Lambda bursts do not exhaust
 *   connections. Functions connect to the proxy endpoint (`DATABASE_HOST`) with the cluster secret.
 * - `serverless`: Aurora PostgreSQL Serverless v2 with a minimum of 0 ACU (it pauses when idle) and the RDS
 *   Data API. The cluster sits in isolated subnets of a VPC that has no NAT gateway; the functions run outside
 *   any VPC and call the Data API over HTTPS with IAM, so there is no RDS Proxy and nothing bills by the hour
 *   while nobody uses the platform.
 * - `external`: no VPC; a secret holding the postgres:// URL of a server the operator runs (Neon, Supabase,
 *   RDS elsewhere…), either handed in or created with a placeholder for the operator to fill.
 */
export class Database extends Construct {
  /** DATABASE_SECRET_ARN: RDS-style JSON (aurora) or a full postgres:// URL (external). */
  readonly secret: secretsmanager.ISecret;
  /** DATABASE_HOST: the RDS Proxy endpoint, which overrides the `host` of the RDS-style secret. */
  readonly host?: string;
  /** Where the functions run in aurora mode. */
  readonly network?: FunctionNetwork;
  readonly vpc?: ec2.Vpc;
  readonly cluster?: rds.DatabaseCluster;
  readonly proxy?: rds.DatabaseProxy;
  /** serverless mode: the cluster the functions reach through the Data API. */
  readonly dataApi?: { readonly clusterArn: string; readonly databaseName: string };
  /** What must be deployed before migrations can run. */
  readonly readyAfter: IConstruct[] = [];

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);

    if (props.mode === 'external') {
      if (props.existingSecretArn) {
        this.secret = secretsmanager.Secret.fromSecretCompleteArn(
          this,
          'DatabaseUrl',
          props.existingSecretArn,
        );
      } else {
        const secret = new secretsmanager.Secret(this, 'DatabaseUrl', {
          description: `MiniRAG ${props.stage}: postgres:// URL of the MiniRAG database (fill in; "${PLACEHOLDER}" means not configured)`,
          secretStringValue: SecretValue.unsafePlainText(PLACEHOLDER),
          removalPolicy: RemovalPolicy.RETAIN,
        });
        Validations.of(secret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason:
            'The URL of an externally managed database; its credentials are rotated where that database is managed, then pasted here.',
        });
        this.secret = secret;
        this.readyAfter.push(secret);
      }
      return;
    }

    const serverless = props.mode === 'serverless';
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      // Only the cluster lives in a serverless deployment's VPC: no egress, so no NAT gateway to pay for.
      natGateways: serverless ? 0 : props.natGateways,
      subnetConfiguration: [
        ...(serverless
          ? []
          : [
              { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
              { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
            ]),
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: {
        rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });

    if (serverless) {
      this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
        ...this.clusterSettings(props),
        serverlessV2MinCapacity: 0,
        serverlessV2AutoPauseDuration: props.autoPause,
        enableDataApi: true,
      });
      this.secret = this.clusterSecret(props);
      this.dataApi = { clusterArn: this.cluster.clusterArn, databaseName: DATABASE_NAME };
      this.readyAfter.push(this.cluster);
      return;
    }

    const functionsSg = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc: this.vpc,
      description: 'MiniRAG Lambda functions (egress to RDS Proxy, AWS APIs and LLM providers)',
      allowAllOutbound: true,
    });
    this.network = {
      vpc: this.vpc,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [functionsSg],
    };

    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      ...this.clusterSettings(props),
      serverlessV2MinCapacity: props.minCapacity,
    });
    const secret = this.clusterSecret(props);
    this.secret = secret;

    this.proxy = this.cluster.addProxy('Proxy', {
      secrets: [secret],
      vpc: this.vpc,
      // The proxy fetches the secret from Secrets Manager, so it sits where there is egress.
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      requireTLS: true,
      borrowTimeout: Duration.seconds(30),
    });
    // RDS Proxy for PostgreSQL always listens on 5432.
    this.proxy.connections.allowFrom(functionsSg, ec2.Port.tcp(5432), 'MiniRAG functions to RDS Proxy');
    this.host = this.proxy.endpoint;
    this.readyAfter.push(this.cluster, this.proxy);
  }

  /** Lets a function call the Data API on this cluster (serverless mode; a no-op otherwise). */
  grantDataApi(grantee: iam.IGrantable): void {
    // Data API calls only: the cluster ARN as resource, no `*`. The secret is granted with DATABASE_SECRET_ARN.
    if (this.dataApi && this.cluster) {
      iam.Grant.addToPrincipal({
        grantee,
        actions: [
          'rds-data:BeginTransaction',
          'rds-data:CommitTransaction',
          'rds-data:ExecuteStatement',
          'rds-data:RollbackTransaction',
        ],
        resourceArns: [this.cluster.clusterArn],
      });
    }
  }

  private clusterSettings(props: DatabaseProps) {
    return {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: rds.AuroraPostgresEngineVersion.VER_16_6 }),
      writer: rds.ClusterInstance.serverlessV2('Writer', { publiclyAccessible: false }),
      serverlessV2MaxCapacity: props.maxCapacity,
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER),
      defaultDatabaseName: DATABASE_NAME,
      storageEncrypted: true,
      iamAuthentication: true,
      deletionProtection: props.deletionProtection,
      backup: { retention: Duration.days(7) },
      removalPolicy: RemovalPolicy.SNAPSHOT,
    } satisfies Partial<rds.DatabaseClusterProps>;
  }

  /** The cluster's generated secret, with the cdk-nag findings that apply to it acknowledged. */
  private clusterSecret(props: DatabaseProps): secretsmanager.ISecret {
    const cluster = this.cluster;
    const secret = cluster?.secret;
    if (!cluster || !secret) throw new Error('the Aurora cluster was created without a secret');
    // cluster.secret is the attachment; the secret resource itself is the cluster's `Secret` child.
    Validations.of(cluster.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Functions cache the database credentials per container; single-user rotation would break them until they restart. Rotate with a maintenance window (or add multi-user rotation) once the app refreshes credentials on auth failure.',
    });
    if (!props.deletionProtection) {
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-RDS10',
        reason:
          'Deletion protection is off by choice for this non-production stage (context deletionProtection=false / stage is not prod), so the stack can be torn down; a final snapshot is still taken.',
      });
    }
    return secret;
  }
}
