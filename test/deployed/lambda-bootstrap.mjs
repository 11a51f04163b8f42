// The Lambda Node.js runtime's side of a function instance, for the deployed-artifact tests: what
// /var/runtime does in a nodejs22.x sandbox, reduced to what MiniRAG's functions use. It loads the handler
// named by _HANDLER from LAMBDA_TASK_ROOT (index.mjs, .js or .cjs), provides the `awslambda` global, and
// serves invocations from the Runtime API at AWS_LAMBDA_RUNTIME_API: GET …/invocation/next, then POST
// …/response (buffered JSON, or chunked with `Lambda-Runtime-Function-Response-Mode: streaming` for a
// handler wrapped in awslambda.streamifyResponse) or …/error; an import failure is posted to …/init/error.
// Plain JavaScript: it runs in the child process exactly as the runtime's own code would, without tsx.
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const API = process.env.AWS_LAMBDA_RUNTIME_API;
// One connection per call: a kept-alive socket the Runtime API closed while idle would fail the next call.
const agent = new Agent({ keepAlive: false });
const request = (url, options, callback) =>
  typeof options === 'function'
    ? httpRequest(url, { agent }, options)
    : httpRequest(url, { agent, ...options }, callback);
const BASE = `http://${API}/2018-06-01/runtime`;
const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const PRELUDE_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

// As the runtime's HttpResponseStream: the JSON prelude and eight NUL bytes go out before the first body byte.
const HttpResponseStream = {
  from(underlyingStream, prelude) {
    underlyingStream.setContentType(PRELUDE_CONTENT_TYPE);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  },
};

globalThis.awslambda = {
  streamifyResponse(handler, options) {
    handler[STREAMING] = 'response';
    if (options?.highWaterMark) handler.highWaterMark = options.highWaterMark;
    return handler;
  },
  HttpResponseStream,
};

const errorBody = (error) => ({
  errorType: error?.name ?? 'Error',
  errorMessage: error?.message ?? String(error),
  trace: String(error?.stack ?? '').split('\n'),
});

function post(path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(`${BASE}${path}`, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function loadHandler() {
  const [moduleName, handlerName] = String(process.env._HANDLER).split('.');
  const root = process.env.LAMBDA_TASK_ROOT;
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(root, `${moduleName}${ext}`)).find(existsSync);
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  const module = await import(pathToFileURL(file).href);
  const handler = module[handlerName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${moduleName}.${handlerName} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler;
}

function contextFor(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

// The runtime's response stream: a chunked POST whose content type can be set until the first write.
function responseStream(requestId) {
  let contentType = 'application/octet-stream';
  let started = false;
  let settle;
  const done = new Promise((resolve, reject) => {
    settle = { resolve, reject };
  });
  const req = request(`${BASE}/invocation/${requestId}/response`, {
    method: 'POST',
    headers: {
      'Lambda-Runtime-Function-Response-Mode': 'streaming',
      'Transfer-Encoding': 'chunked',
      Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    },
  });
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => settle.resolve(res.statusCode));
  });
  req.on('error', (error) => settle.reject(error));
  const write = req.write.bind(req);
  const end = req.end.bind(req);
  const start = () => {
    if (started) return;
    started = true;
    req.setHeader('Content-Type', contentType);
    req._onBeforeFirstWrite?.((chunk) => write(chunk));
  };
  req.setContentType = (type) => {
    if (started) throw new Error('Tried to set the content type after the first write');
    contentType = type;
  };
  req.write = (chunk, ...rest) => {
    start();
    return write(chunk, ...rest);
  };
  req.end = (...args) => {
    start();
    return end(...args);
  };
  req.fail = (error) => {
    start();
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': error?.name ?? 'Error',
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(errorBody(error))).toString('base64'),
    });
    end();
  };
  return { stream: req, done };
}

function nextInvocation() {
  return new Promise((resolve, reject) => {
    request(`${BASE}/invocation/next`, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

let handler;
try {
  handler = await loadHandler();
} catch (error) {
  console.error(JSON.stringify({ level: 'ERROR', message: 'init failed', ...errorBody(error) }));
  await post('/init/error', JSON.stringify(errorBody(error)), {
    'Lambda-Runtime-Function-Error-Type': error?.name ?? 'Runtime.Unknown',
  });
  process.exit(129);
}

for (;;) {
  const { headers, body } = await nextInvocation();
  const requestId = headers['lambda-runtime-aws-request-id'];
  const context = contextFor(headers);
  const event = JSON.parse(body);
  if (handler[STREAMING] === 'response') {
    const { stream, done } = responseStream(requestId);
    try {
      await handler(event, stream, context);
      if (!stream.writableEnded) stream.end();
    } catch (error) {
      stream.fail(error);
    }
    await done;
    continue;
  }
  try {
    const result = await handler(event, context);
    await post(`/invocation/${requestId}/response`, JSON.stringify(result ?? null));
  } catch (error) {
    await post(`/invocation/${requestId}/error`, JSON.stringify(errorBody(error)), {
      'Lambda-Runtime-Function-Error-Type': error?.name ?? 'Error',
    });
  }
}
