import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DeployedFunction, PROJECT_ROOT } from './cloud-assembly.ts';
import { type InvocationOutcome, type RuntimeApi, startRuntimeApi } from './runtime-api.ts';
import { REGION } from './stand-ins.ts';

const BOOTSTRAP = fileURLToPath(new URL('./lambda-bootstrap.mjs', import.meta.url));

/** Node 22, whatever runs the tests: this process's own binary if it is 22+, else bin/node22.mjs's. */
export function node22(): string {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  return execFileSync('node', [join(PROJECT_ROOT, 'bin/node22.mjs'), 'node', '-p', 'process.execPath'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).trim();
}

/**
 * A directory laid out like a Lambda sandbox: `<root>/<function>/` holds a copy of the bundle (/var/task),
 * and `<root>/node_modules/@aws-sdk` is the only package outside it — the SDK the Node.js runtime provides,
 * which the bundles leave external. Any other module a bundle forgot fails to import, as it would in AWS.
 */
export async function prepareSandboxRoot(root: string): Promise<void> {
  await mkdir(join(root, 'node_modules'), { recursive: true });
  await symlink(
    join(PROJECT_ROOT, 'node_modules', '@aws-sdk'),
    join(root, 'node_modules', '@aws-sdk'),
    'dir',
  );
}

export interface InstanceOptions {
  readonly root: string;
  readonly node: string;
  /** The function's environment from the template, tokens resolved. */
  readonly environment: Record<string, string>;
  readonly accessKeyId: string;
  /** AWS_ENDPOINT_URL_<SERVICE> → the stand-ins. */
  readonly endpoints: Record<string, string>;
}

export interface FunctionInstance {
  readonly fn: DeployedFunction;
  invoke(event: unknown): Promise<InvocationOutcome>;
  /** Everything the instance wrote to stdout and stderr (its CloudWatch log stream). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * One execution environment of a function: a Node 22 child process running the bundle under the runtime
 * bootstrap, with the environment Lambda builds — the template's variables, the runtime's own (_HANDLER,
 * LAMBDA_TASK_ROOT, AWS_LAMBDA_*, credentials of the function's role) and nothing from the test's process.
 * The heap is capped from MemorySize as the runtime does, and an invocation past the template's Timeout
 * kills the instance ("Task timed out").
 */
export async function startFunctionInstance(
  fn: DeployedFunction,
  options: InstanceOptions,
): Promise<FunctionInstance> {
  const task = join(options.root, `${fn.name}-${crypto.randomUUID().slice(0, 8)}`);
  await cp(fn.assetDir, task, { recursive: true });
  const functionName = `MiniRag-${fn.logicalId}`;
  const runtimeApi: RuntimeApi = await startRuntimeApi(
    `arn:aws:lambda:${REGION}:123456789012:function:${functionName}`,
  );
  const env: Record<string, string> = {
    ...options.environment,
    ...options.endpoints,
    _HANDLER: fn.handler,
    LAMBDA_TASK_ROOT: task,
    LAMBDA_RUNTIME_DIR: dirname(BOOTSTRAP),
    AWS_LAMBDA_RUNTIME_API: runtimeApi.address,
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `2026/01/01/[$LATEST]${crypto.randomUUID().replaceAll('-', '')}`,
    ...(fn.logFormat ? { AWS_LAMBDA_LOG_FORMAT: fn.logFormat } : {}),
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: options.accessKeyId,
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key',
    AWS_SESSION_TOKEN: 'stand-in-session-token',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    PATH: `${dirname(options.node)}:/usr/local/bin:/usr/bin:/bin`,
  };
  let output = '';
  let exited: string | undefined;
  const child: ChildProcess = spawn(
    options.node,
    [`--max-old-space-size=${Math.floor(fn.memorySize * 0.9)}`, BOOTSTRAP],
    { env, cwd: task, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.on('exit', (code, signal) => {
    // As Lambda's Runtime.ExitError, plus the end of the instance's log, which says why.
    exited = `Runtime exited with ${signal ? `signal ${signal}` : `error: exit status ${code}`}\n${output.slice(-3000)}`;
    runtimeApi.abort({ errorType: 'Runtime.ExitError', errorMessage: exited, phase: 'invoke' });
  });

  return {
    fn,
    async invoke(event) {
      if (exited)
        return {
          kind: 'error',
          error: { errorType: 'Runtime.ExitError', errorMessage: exited, phase: 'invoke' },
        };
      const timeoutMs = fn.timeoutSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<InvocationOutcome>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve({
            kind: 'error',
            error: {
              errorType: 'Sandbox.Timedout',
              errorMessage: `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
              phase: 'invoke',
            },
          });
        }, timeoutMs);
      });
      try {
        return await Promise.race([runtimeApi.invoke(event, timeoutMs), timedOut]);
      } finally {
        clearTimeout(timer);
      }
    },
    logs: () => output,
    async stop() {
      if (!exited) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      await runtimeApi.close();
    },
  };
}
