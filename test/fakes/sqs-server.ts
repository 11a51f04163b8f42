import { createHash, randomUUID } from 'node:crypto';
import { type AwsJsonServer, AwsServiceError, startAwsJsonServer } from './aws-json-server.ts';
import type { Authorize } from './secrets-manager-server.ts';

export interface QueueDefinition {
  /** Logical name; the queue's URL is `<server url>/<account>/<name>`. */
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  /** The template's RedrivePolicy, with the dead-letter queue given by name. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

export interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
}

export interface FakeSqs extends AwsJsonServer {
  readonly account: string;
  urlOf(name: string): string;
  arnOf(name: string): string;
  /** Messages in a queue, in flight or not (the test's view of the queue). */
  messages(name: string): readonly StoredMessage[];
  /** Moves the queue's clock forward, e.g. past a visibility timeout. */
  advance(seconds: number): void;
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/**
 * SQS over its current wire protocol (awsJson1_0, `AmazonSQS.*`; the SDK checks the MD5 digests it returns):
 * SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch) and ChangeMessageVisibility, with visibility
 * timeouts on a clock the test can advance and the redrive policy applied as SQS does: a receive that would
 * exceed maxReceiveCount moves the message to the dead-letter queue instead of delivering it.
 */
export async function startFakeSqs(options: {
  queues: readonly QueueDefinition[];
  region: string;
  account: string;
  authorize?: Authorize;
}): Promise<FakeSqs> {
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;
  const queues = new Map(
    options.queues.map((q) => [q.name, { definition: q, messages: [] as StoredMessage[] }]),
  );
  let baseUrl = '';
  const urlOf = (name: string) => `${baseUrl}/${options.account}/${name}`;
  const arnOf = (name: string) => `arn:aws:sqs:${options.region}:${options.account}:${name}`;
  const queueOf = (input: Record<string, unknown>, call: Parameters<Authorize>[0], action: string) => {
    const url = String(input.QueueUrl ?? '');
    const name = url.startsWith(`${baseUrl}/${options.account}/`) ? url.split('/').pop()! : '';
    const queue = queues.get(name);
    if (!queue) throw new AwsServiceError('QueueDoesNotExist', 'The specified queue does not exist.');
    options.authorize?.(call, action, arnOf(name));
    return queue;
  };
  const send = (queue: { messages: StoredMessage[] }, body: unknown, delaySeconds: unknown) => {
    if (typeof body !== 'string' || body === '') {
      throw new AwsServiceError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      sentAt: now(),
      receiveCount: 0,
      visibleAt: now() + Number(delaySeconds ?? 0) * 1000,
    };
    queue.messages.push(message);
    return message;
  };
  const remove = (queue: { messages: StoredMessage[] }, receiptHandle: unknown) => {
    const at = queue.messages.findIndex((m) => m.receiptHandle === receiptHandle);
    if (at < 0) throw new AwsServiceError('ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
    queue.messages.splice(at, 1);
  };

  const server = await startAwsJsonServer(
    {
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      signingName: 'sqs',
      errorTypePrefix: 'com.amazonaws.sqs#',
    },
    {
      SendMessage(input, call) {
        const m = send(queueOf(input, call, 'sqs:SendMessage'), input.MessageBody, input.DelaySeconds);
        return { MessageId: m.messageId, MD5OfMessageBody: md5(m.body) };
      },
      SendMessageBatch(input, call) {
        const queue = queueOf(input, call, 'sqs:SendMessage');
        const entries = (input.Entries ?? []) as Record<string, unknown>[];
        if (entries.length === 0 || entries.length > 10) {
          throw new AwsServiceError('TooManyEntriesInBatchRequest', 'A batch holds 1 to 10 entries.');
        }
        const Successful = entries.map((entry) => {
          const m = send(queue, entry.MessageBody, entry.DelaySeconds);
          return { Id: entry.Id, MessageId: m.messageId, MD5OfMessageBody: md5(m.body) };
        });
        return { Successful, Failed: [] };
      },
      ReceiveMessage(input, call) {
        const queue = queueOf(input, call, 'sqs:ReceiveMessage');
        const max = Number(input.MaxNumberOfMessages ?? 1);
        const visibility = Number(input.VisibilityTimeout ?? queue.definition.visibilityTimeoutSeconds);
        const Messages = [];
        for (const m of [...queue.messages]) {
          if (Messages.length >= max) break;
          if (m.visibleAt > now()) continue;
          const redrive = queue.definition.redrive;
          if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
            const dlq = queues.get(redrive.deadLetterQueue)!;
            queue.messages.splice(queue.messages.indexOf(m), 1);
            dlq.messages.push({ ...m, receiptHandle: undefined, visibleAt: now() });
            continue;
          }
          m.receiveCount++;
          m.firstReceivedAt ??= now();
          m.visibleAt = now() + visibility * 1000;
          m.receiptHandle = randomUUID();
          Messages.push({
            MessageId: m.messageId,
            ReceiptHandle: m.receiptHandle,
            MD5OfBody: md5(m.body),
            Body: m.body,
            Attributes: {
              ApproximateReceiveCount: String(m.receiveCount),
              SentTimestamp: String(m.sentAt),
              SenderId: call.accessKeyId,
              ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
            },
          });
        }
        return Messages.length > 0 ? { Messages } : {};
      },
      DeleteMessage(input, call) {
        remove(queueOf(input, call, 'sqs:DeleteMessage'), input.ReceiptHandle);
        return {};
      },
      DeleteMessageBatch(input, call) {
        const queue = queueOf(input, call, 'sqs:DeleteMessage');
        const entries = (input.Entries ?? []) as Record<string, unknown>[];
        for (const e of entries) remove(queue, e.ReceiptHandle);
        return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
      },
      ChangeMessageVisibility(input, call) {
        const queue = queueOf(input, call, 'sqs:ChangeMessageVisibility');
        const m = queue.messages.find((x) => x.receiptHandle === input.ReceiptHandle);
        if (!m) throw new AwsServiceError('ReceiptHandleIsInvalid', 'The receipt handle is not valid.');
        m.visibleAt = now() + Number(input.VisibilityTimeout ?? 0) * 1000;
        return {};
      },
    },
  );
  baseUrl = server.url;
  return {
    ...server,
    account: options.account,
    urlOf,
    arnOf,
    messages: (name) => queues.get(name)?.messages ?? [],
    advance(seconds) {
      offsetMs += seconds * 1000;
    },
  };
}
