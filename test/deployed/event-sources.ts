import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { FunctionInstance } from './function-instance.ts';
import type { FunctionError, InvocationOutcome } from './runtime-api.ts';
import { REGION } from './stand-ins.ts';

/** What a caller of the function sees when it failed: API Gateway's 500, or a function URL's 502. */
export class InvocationFailed extends Error {
  constructor(readonly error: FunctionError) {
    super(`${error.errorType}: ${error.errorMessage}`);
  }
}

/** API Gateway HTTP API (payload 2.0) in front of a function: its result object becomes the HTTP response. */
export async function viaApiGateway(instance: FunctionInstance, event: unknown): Promise<Response> {
  const outcome = await instance.invoke(event);
  if (outcome.kind === 'error') throw new InvocationFailed(outcome.error);
  if (outcome.kind !== 'response') throw new Error('API Gateway integrations are not streamed');
  const result = outcome.payload as {
    statusCode: number;
    headers?: Record<string, string>;
    cookies?: string[];
    body?: string;
    isBase64Encoded?: boolean;
  };
  const headers = new Headers(result.headers ?? {});
  for (const cookie of result.cookies ?? []) headers.append('set-cookie', cookie);
  const body =
    result.body === undefined ? null : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  return new Response([204, 304].includes(result.statusCode) ? null : body, {
    status: result.statusCode,
    headers,
  });
}

const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/**
 * A function URL in RESPONSE_STREAM mode: reads the prelude the function wrote (JSON, then eight NUL bytes)
 * for the status and headers, and streams what follows as the body, as the URL's frontend does.
 */
export async function viaStreamingFunctionUrl(instance: FunctionInstance, event: unknown): Promise<Response> {
  const outcome: InvocationOutcome = await instance.invoke(event);
  if (outcome.kind === 'error') throw new InvocationFailed(outcome.error);
  if (outcome.kind !== 'stream') throw new Error('the handler is not wrapped in awslambda.streamifyResponse');
  if (outcome.contentType !== PRELUDE_CONTENT_TYPE) {
    return new Response(outcome.body, { status: 200, headers: { 'content-type': outcome.contentType } });
  }
  const reader = outcome.body.getReader();
  let buffered = Buffer.alloc(0);
  let delimiter = -1;
  while (delimiter < 0) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended inside its prelude');
    buffered = Buffer.concat([buffered, value]);
    delimiter = buffered.indexOf(Buffer.alloc(8));
  }
  const prelude = JSON.parse(buffered.subarray(0, delimiter).toString('utf8')) as {
    statusCode?: number;
    headers?: Record<string, string>;
    cookies?: string[];
  };
  const rest = buffered.subarray(delimiter + 8);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length > 0) controller.enqueue(new Uint8Array(rest));
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
  const headers = new Headers(prelude.headers ?? {});
  for (const cookie of prelude.cookies ?? []) headers.append('set-cookie', cookie);
  return new Response(body, { status: prelude.statusCode ?? 200, headers });
}

export interface EventSourceMapping {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
}

export interface PollResult {
  readonly received: number;
  readonly failed: number;
  readonly error?: FunctionError;
}

/**
 * One poll of Lambda's SQS event source mapping: receive up to BatchSize messages, invoke the function with
 * them as an SQS event, then delete what succeeded — everything but the reported batchItemFailures, or
 * nothing when the invocation failed or answered with an unknown item. Failed messages stay in flight
 * until their visibility timeout, as in AWS.
 */
export async function pollQueue(
  sqs: SQSClient,
  mapping: EventSourceMapping,
  instance: FunctionInstance,
): Promise<PollResult> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: mapping.queueUrl,
      MaxNumberOfMessages: mapping.batchSize,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = out.Messages ?? [];
  if (messages.length === 0) return { received: 0, failed: 0 };
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: m.Attributes as never,
      messageAttributes: {},
      md5OfBody: m.MD5OfBody!,
      eventSource: 'aws:sqs',
      eventSourceARN: mapping.queueArn,
      awsRegion: REGION,
    })),
  };
  const outcome = await instance.invoke(event);
  if (outcome.kind === 'error')
    return { received: messages.length, failed: messages.length, error: outcome.error };
  const failures = mapping.reportBatchItemFailures
    ? ((outcome.kind === 'response' ? (outcome.payload as SQSBatchResponse | null) : null)
        ?.batchItemFailures ?? [])
    : [];
  const ids = new Set(messages.map((m) => m.MessageId));
  if (failures.some((f) => !ids.has(f.itemIdentifier)))
    return { received: messages.length, failed: messages.length };
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const succeeded = messages.filter((m) => !failed.has(m.MessageId!));
  if (succeeded.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: mapping.queueUrl,
        Entries: succeeded.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return { received: messages.length, failed: failed.size };
}
