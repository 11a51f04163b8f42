import { Duration } from 'aws-cdk-lib';
import * as triggers from 'aws-cdk-lib/triggers';
import { Construct } from 'constructs';
import { AppFunction } from './app-function.ts';
import type { Database } from './database.ts';
import type { FunctionBundleSpec } from './function-bundle.ts';
import type { FunctionDefaults } from './function-defaults.ts';

export interface MigrationsProps {
  readonly defaults: FunctionDefaults;
  /** The handler module (functions/migrate/handler.ts). */
  /** What the function's asset is built from (function-bundle.ts). */
  readonly bundle: FunctionBundleSpec;
  readonly database: Database;
}

/**
 * The migrate function (functions/migrate) and a CDK trigger that invokes it once the database is deployed,
 * and again whenever its bundle — which carries shared/db/migrations/*.sql — changes. A failed migration
 * fails the deployment.
 */
export class Migrations extends Construct {
  readonly function: AppFunction;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const { defaults, database } = props;

    this.function = new AppFunction(this, 'Migrate', {
      ...defaults,
      ...props.bundle,
      serviceName: 'minirag-migrate',
      description: 'MiniRAG: applies the SQL migrations (run by a deploy trigger)',
      timeout: Duration.minutes(5),
      memorySize: 512,
      environment: { DATABASE_SECRET_ARN: database.secret.secretArn, ...databaseEnv(database) },
    });
    database.secret.grantRead(this.function.function);
    database.grantDataApi(this.function.function);

    new triggers.Trigger(this, 'Run', {
      handler: this.function.function,
      executeAfter: database.readyAfter,
      executeOnHandlerChange: true,
      invocationType: triggers.InvocationType.REQUEST_RESPONSE,
      timeout: Duration.minutes(6),
    });
  }
}

/**
 * How a function reaches the database besides DATABASE_SECRET_ARN: DATABASE_HOST for Aurora through RDS Proxy,
 * the Data API driver with the cluster ARN for a serverless deployment, nothing for an external URL.
 */
export function databaseEnv(database: Database): Record<string, string> {
  if (database.dataApi) {
    return {
      DATABASE_DRIVER: 'data-api',
      DATABASE_CLUSTER_ARN: database.dataApi.clusterArn,
      DATABASE_NAME: database.dataApi.databaseName,
    };
  }
  return database.host ? { DATABASE_HOST: database.host } : {};
}
