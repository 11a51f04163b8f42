import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AppFunction } from './app-function.ts';
import type { FunctionBundleSpec } from './function-bundle.ts';
import type { FunctionDefaults } from './function-defaults.ts';

export interface ChatStreamProps {
  readonly defaults: FunctionDefaults;
  /** The handler module (functions/chat-stream/handler.ts). */
  /** What the function's asset is built from (function-bundle.ts). */
  readonly bundle: FunctionBundleSpec;
  /** The deployment's front-end origins, answered by the app (see deploymentCors). */
  readonly corsOrigins: string[];
  /**
   * NONE: the URL is public and the app authenticates the `Authorization: Bearer` token itself, exactly as the
   * api does (API Gateway cannot stream, so there is no gateway in front to put an authorizer on).
   * AWS_IAM: callers must SigV4-sign requests and hold lambda:InvokeFunctionUrl (e.g. a CloudFront origin access
   * control or a backend role); the app still checks the bearer token.
   */
  readonly authType: 'NONE' | 'AWS_IAM';
  readonly reservedConcurrency?: number;
}

/**
 * Streamed chat answers: the chat-stream function behind a Lambda function URL in RESPONSE_STREAM mode (SSE
 * events as the model produces them), with a longer timeout than the API because an answer can take minutes.
 */
export class ChatStream extends Construct {
  readonly function: AppFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: ChatStreamProps) {
    super(scope, id);
    const { defaults } = props;

    this.function = new AppFunction(this, 'Handler', {
      ...defaults,
      ...props.bundle,
      serviceName: 'minirag-chat-stream',
      description: 'MiniRAG streamed chat (SSE over a response-streaming function URL)',
      timeout: Duration.minutes(5),
      memorySize: 1024,
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: { CORS_ORIGINS: props.corsOrigins.join(',') },
    });

    this.url = this.function.function.addFunctionUrl({
      authType:
        props.authType === 'AWS_IAM' ? lambda.FunctionUrlAuthType.AWS_IAM : lambda.FunctionUrlAuthType.NONE,
      invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
      // No CORS here: a function URL's CORS is one static list, answers preflights itself and replaces the
      // app's headers, while the website routes (/v1/public) must answer each publishable key's own origins.
      // The app does CORS: the deployment's CORS_ORIGINS for its routes, the key's origins for /v1/public.
    });
  }
}
