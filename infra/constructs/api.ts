import { Duration, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from './app-function.ts';
import type { FunctionBundleSpec } from './function-bundle.ts';
import type { FunctionDefaults } from './function-defaults.ts';

/**
 * What fits Lambda's 6 MB request payload once API Gateway base64-encodes a multipart body (4/3 the size),
 * with room for the event: the largest file `POST /v1/sources` takes in the request itself.
 */
export const MAX_INLINE_UPLOAD_BYTES = 4 * 1024 * 1024;

export interface ApiProps {
  readonly defaults: FunctionDefaults;
  /** The handler module (functions/api/handler.ts). */
  /** What the function's asset is built from (function-bundle.ts). */
  readonly bundle: FunctionBundleSpec;
  readonly stage: string;
  readonly corsOrigins: string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Largest file a tenant may add through a direct upload (MAX_UPLOAD_BYTES). */
  readonly maxUploadBytes: number;
  readonly reservedConcurrency?: number;
  /** The ingest queue the api enqueues `{ tenantId, sourceId, version }` on. */
  readonly queue: sqs.IQueue;
}

/** One JSON line per request; no headers, so a bearer token never reaches the access log. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
});

/**
 * The REST API: an API Gateway HTTP API whose $default route proxies everything to the api function (a Hono
 * app that authenticates bearer tokens itself), with stage throttling and JSON access logs.
 */
export class Api extends Construct {
  readonly function: AppFunction;
  readonly httpApi: apigwv2.HttpApi;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { defaults } = props;

    this.function = new AppFunction(this, 'Handler', {
      ...defaults,
      ...props.bundle,
      serviceName: 'minirag-api',
      description: 'MiniRAG REST API (tenants, users, tokens, bots, sources, chats, usage)',
      // API Gateway gives up on an integration after 30 s.
      timeout: Duration.seconds(29),
      memorySize: 1024,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: {
        QUEUE_URL: props.queue.queueUrl,
        CORS_ORIGINS: props.corsOrigins.join(','),
        MAX_UPLOAD_BYTES: String(props.maxUploadBytes),
        // A file sent in the request itself must fit Lambda's payload; larger ones use direct uploads.
        MAX_INLINE_UPLOAD_BYTES: String(MAX_INLINE_UPLOAD_BYTES),
      },
    });
    props.queue.grantSendMessages(this.function.function);

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `minirag-${props.stage}`,
      description: `MiniRAG ${props.stage} REST API`,
      createDefaultStage: false,
      defaultIntegration: new HttpLambdaIntegration('Integration', this.function.function),
      // No corsPreflight: API Gateway would answer every preflight with one static list and overwrite the
      // app's CORS headers, but the website routes (/v1/public) answer each publishable key's origins. The
      // app does CORS for both (deploymentCors for CORS_ORIGINS, publicCors for the keys).
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: defaults.logRetention,
      removalPolicy: defaults.logRemovalPolicy,
    });
    new apigwv2.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });

    Validations.of(this.httpApi.node.findChild('DefaultRoute')).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authorization is done by the app on every route: bearer access tokens (JWT) and API tokens resolved against the tenant database, which an API Gateway authorizer could not check without a second database round trip; public routes (login, /openapi.json) must stay open.',
    });
  }

  /** Base URL of the API (the $default stage). */
  get url(): string {
    return this.httpApi.apiEndpoint;
  }
}
