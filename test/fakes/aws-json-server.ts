import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The AWS JSON protocols (awsJson1_0 for SQS, awsJson1_1 for KMS and Secrets Manager), server side: a POST
 * to `/` whose `X-Amz-Target` is `<TargetPrefix>.<Operation>`, a body of the protocol's content type, and a
 * SigV4 `Authorization` header scoped to the service's signing name. Anything else is refused the way AWS
 * refuses it, so a client that speaks the wrong protocol, signs for the wrong service or calls an operation
 * the stand-in does not know fails loudly instead of silently working.
 */
export interface AwsJsonServiceSpec {
  /** e.g. `AmazonSQS`, `TrentService`, `secretsmanager`. */
  readonly targetPrefix: string;
  /** `1.0` or `1.1`: the `application/x-amz-json-…` content type the SDK must send. */
  readonly jsonVersion: '1.0' | '1.1';
  /** SigV4 signing name: the `…/<region>/<service>/aws4_request` part of the credential scope. */
  readonly signingName: string;
  /** Error `__type` prefix, e.g. `com.amazonaws.sqs#` (SQS) or empty (KMS, Secrets Manager). */
  readonly errorTypePrefix?: string;
}

export interface AwsCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** The access key id the request was signed with: which function's role made the call. */
  readonly accessKeyId: string;
}

/** An error the service answers with: `{ __type, message }`, HTTP 400 unless said otherwise. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export type AwsOperation = (input: Record<string, unknown>, call: AwsCall) => unknown | Promise<unknown>;

export interface AwsJsonServer {
  readonly url: string;
  readonly calls: AwsCall[];
  /** Requests refused before reaching an operation (wrong protocol, signature, unknown operation). */
  readonly violations: string[];
  close(): Promise<void>;
}

const CREDENTIAL = /Credential=([^/]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/;

export async function startAwsJsonServer(
  spec: AwsJsonServiceSpec,
  operations: Record<string, AwsOperation>,
): Promise<AwsJsonServer> {
  const calls: AwsCall[] = [];
  const violations: string[] = [];
  const contentType = `application/x-amz-json-${spec.jsonVersion}`;

  const server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) =>
      res
        .writeHead(status, {
          'content-type': contentType,
          'x-amzn-requestid': crypto.randomUUID(),
          ...headers,
        })
        .end(JSON.stringify(body));
    const refuse = (status: number, type: string, message: string) => {
      violations.push(`${req.headers['x-amz-target'] ?? req.url}: ${message}`);
      reply(status, { __type: `${spec.errorTypePrefix ?? ''}${type}`, message });
    };
    const text = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix, operation = ''] = target.split('.');
    if (req.method !== 'POST' || req.url !== '/')
      return refuse(404, 'UnknownOperationException', 'not POST /');
    if (prefix !== spec.targetPrefix) return refuse(400, 'UnknownOperationException', `target ${target}`);
    if (!String(req.headers['content-type'] ?? '').startsWith(contentType)) {
      return refuse(400, 'SerializationException', `content-type ${req.headers['content-type']}`);
    }
    const credential = CREDENTIAL.exec(String(req.headers.authorization ?? ''));
    if (!credential || credential[3] !== spec.signingName) {
      return refuse(403, 'InvalidSignatureException', `not SigV4-signed for ${spec.signingName}`);
    }
    const handler = operations[operation];
    if (!handler) return refuse(400, 'UnknownOperationException', `operation ${operation} not supported`);
    let input: Record<string, unknown>;
    try {
      input = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      return refuse(400, 'SerializationException', 'body is not JSON');
    }
    const call = { operation, input, accessKeyId: credential[1]! };
    calls.push(call);
    try {
      reply(200, (await handler(input, call)) ?? {});
    } catch (error) {
      if (!(error instanceof AwsServiceError)) {
        violations.push(`${operation} crashed: ${String(error)}`);
        return reply(500, { __type: 'InternalFailure', message: String(error) });
      }
      // SQS in JSON mode also names the error the way its query protocol did; the SDK reads either.
      const queryError =
        spec.targetPrefix === 'AmazonSQS' ? { 'x-amzn-query-error': `${error.type};Sender` } : undefined;
      reply(
        error.status,
        { __type: `${spec.errorTypePrefix ?? ''}${error.type}`, message: error.message },
        queryError,
      );
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    violations,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
