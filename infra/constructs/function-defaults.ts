import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { FunctionNetwork } from './app-function.ts';

/** What every MiniRAG function shares: where the code lives, logging, and (aurora mode) the network. */
export interface FunctionDefaults {
  readonly projectRoot: string;
  /** The deployment's stage: a dimension of every metric the functions emit. */
  readonly stage: string;
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly network?: FunctionNetwork;
}
