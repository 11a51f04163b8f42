import { readdir } from 'node:fs/promises';
import type { Command } from 'commander';
import { ApiClient } from '../client/api-client.ts';
import { ApiError, UsageError } from '../client/api-error.ts';
import { ask, startChat } from '../client/chat-session.ts';
import { type GlobalOptions, resolveConnection } from '../client/connection.ts';
import type { BotJson } from '../client/types.ts';
import { handled } from '../render/errors.ts';
import { dim, green, out, red, yellow } from '../render/style.ts';

interface DoctorOptions {
  readonly timeout: string;
}

type Verdict = 'ok' | 'fail' | 'warn';
interface Check {
  readonly verdict: Verdict;
  readonly line: string;
  readonly hint?: string;
}

const PROBE_TEXT =
  'MiniRAG doctor probe. The doctor checks ingestion and answers end to end. The probe word is heliotrope.';
const PROBE_QUESTION = 'What is the probe word of the MiniRAG doctor?';
const MIGRATIONS_DIR = new URL('../../shared/db/migrations/', import.meta.url);

/**
 * `minirag doctor`: after `cdk deploy` (or against a local server), checks each link a user depends on and
 * prints one ✓/✗ line per check with a hint: the API and chat URLs answer, the token is accepted, the
 * database is migrated to this checkout's level, a tiny document goes through the queue to COMPLETED, and
 * an answer about it streams back with a citation. The probe's source, bot and chat are deleted afterwards.
 */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check a deployment end to end: URLs, token, migrations, ingestion, streamed answers')
    .option('--timeout <seconds>', 'how long the probe document may take to ingest', '120')
    .action(
      handled(async (options: DoctorOptions, command: Command) => {
        const connection = await resolveConnection(command.optsWithGlobals<GlobalOptions>());
        if (!connection.token) {
          throw new UsageError(
            'doctor needs a tenant API token: --token, MINIRAG_TOKEN or a saved profile (--profile, MINIRAG_PROFILE).',
          );
        }
        const timeoutMs = Number(options.timeout) * 1000;
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
          throw new UsageError('--timeout must be seconds > 0.');
        const client = new ApiClient({ ...connection, token: connection.token });
        const results = await runChecks(client, timeoutMs);
        if (results.some((r) => r.verdict === 'fail')) process.exitCode = 1;
      }),
    );
}

async function runChecks(client: ApiClient, timeoutMs: number): Promise<Check[]> {
  const results: Check[] = [];
  const report = (check: Check) => {
    results.push(check);
    const mark = check.verdict === 'ok' ? green('✓') : check.verdict === 'warn' ? yellow('!') : red('✗');
    out(`${mark} ${check.line}`);
    if (check.hint && check.verdict !== 'ok') out(dim(`    ${check.hint}`));
  };

  report(
    await reachable(client.apiUrl, 'API', 'check the ApiUrl output of the stack, or that `npm start` runs'),
  );
  report(
    await reachable(
      client.chatUrl,
      'chat URL',
      'check the ChatStreamUrl output of the stack (with chatAuth=AWS_IAM requests must be SigV4-signed)',
    ),
  );
  if (results.some((r) => r.verdict === 'fail')) return results;

  const auth = await attempt(() => client.get('/v1/bots', { query: { limit: 1 } }));
  report(
    auth.ok
      ? { verdict: 'ok', line: 'token accepted' }
      : {
          verdict: 'fail',
          line: `token refused: ${auth.message}`,
          hint: 'mint a token with `npx minirag token create` (scopes: sources, bots, chats) or check --token',
        },
  );
  if (!auth.ok) return results;
  report(await migrationLevel(client));

  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    const ingested = await roundTripIngest(client, timeoutMs, cleanup);
    report(ingested.check);
    if (ingested.sourceId) report(await streamedAnswer(client, ingested.sourceId, cleanup));
  } finally {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
  }
  return results;
}

async function reachable(base: string, what: string, hint: string): Promise<Check> {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(10_000) });
    if (res.ok) return { verdict: 'ok', line: `${what} reachable at ${base}` };
    return { verdict: 'fail', line: `${what} at ${base} answered ${res.status} on /healthz`, hint };
  } catch (error) {
    const reason =
      error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : '';
    return { verdict: 'fail', line: `${what} not reachable at ${base} (${reason})`, hint };
  }
}

/** The schema level the server reports on /readyz, against the migrations this checkout ships. */
async function migrationLevel(client: ApiClient): Promise<Check> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const expected = files.at(-1)?.replace(/\.sql$/, '') ?? '(none)';
  const hint = 'invoke the migrate function (stack output MigrateFunctionName) or `npx minirag migrate`';
  let body: unknown;
  try {
    const res = await fetch(`${client.apiUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
    if (res.status === 404) {
      return {
        verdict: 'warn',
        line: `migration level not reported (this server has no /readyz); this checkout expects ${expected}`,
        hint,
      };
    }
    body = await res.json();
  } catch (error) {
    return { verdict: 'fail', line: `/readyz did not answer: ${String(error)}`, hint };
  }
  const text = JSON.stringify(body);
  const reported = /\d{3}_[a-z0-9_]+/.exec(text)?.[0];
  if (reported === expected) return { verdict: 'ok', line: `database migrated to ${expected}` };
  return {
    verdict: 'fail',
    line: `database at ${reported ?? 'an unknown level'}, this checkout expects ${expected}`,
    hint,
  };
}

async function roundTripIngest(
  client: ApiClient,
  timeoutMs: number,
  cleanup: (() => Promise<unknown>)[],
): Promise<{ check: Check; sourceId?: string }> {
  const started = Date.now();
  const created = await attempt(() =>
    client.post<{ id: string }>('/v1/sources', {
      json: { title: `minirag doctor probe ${new Date().toISOString()}`, type: 'text', content: PROBE_TEXT },
    }),
  );
  if (!created.ok) {
    return {
      check: {
        verdict: 'fail',
        line: `could not add a probe document: ${created.message}`,
        hint: 'the token needs the sources scope',
      },
    };
  }
  const id = created.value.id;
  cleanup.push(() => client.delete(`/v1/sources/${id}`));
  let status = 'PENDING';
  let error: string | null = null;
  while (Date.now() - started < timeoutMs) {
    const source = await client.get<{ status: string; error: string | null }>(`/v1/sources/${id}`);
    ({ status, error } = source);
    if (status === 'COMPLETED' || status === 'FAILED') break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (status === 'COMPLETED') {
    return { check: { verdict: 'ok', line: `probe document ingested in ${seconds} s` }, sourceId: id };
  }
  return {
    check: {
      verdict: 'fail',
      line:
        status === 'FAILED'
          ? `probe document FAILED: ${error}`
          : `probe document still ${status} after ${seconds} s${error ? ` (${error})` : ''}`,
      hint:
        status === 'FAILED'
          ? 'see the ingest function logs'
          : 'nothing consumed the queue: check the ingest function (its logs, the QueueUrl and DlqUrl outputs)',
    },
  };
}

async function streamedAnswer(
  client: ApiClient,
  sourceId: string,
  cleanup: (() => Promise<unknown>)[],
): Promise<Check> {
  const hint = 'see the chat-stream function logs; `npx minirag chat` shows the same answer path';
  const made = await attempt(async () => {
    const bot = await client.post<BotJson>('/v1/bots', { json: { name: 'minirag doctor probe' } });
    cleanup.push(() => client.delete(`/v1/bots/${bot.id}`));
    const chat = await startChat(client, bot.id);
    cleanup.push(() => client.delete(`/v1/chats/${chat.id}`));
    return chat;
  });
  if (!made.ok) return { verdict: 'fail', line: `could not start a probe chat: ${made.message}`, hint };
  const started = Date.now();
  let firstByteMs: number | undefined;
  let text = '';
  let cited = false;
  try {
    for await (const event of ask(client, made.value.id, PROBE_QUESTION)) {
      firstByteMs ??= Date.now() - started;
      if (event.type === 'delta') text += event.text;
      if (event.type === 'citations') cited ||= event.citations.some((c) => c.source_id === sourceId);
      if (event.type === 'error')
        return { verdict: 'fail', line: `the answer failed: ${event.detail}`, hint };
    }
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    return { verdict: 'fail', line: `no streamed answer: ${message}`, hint };
  }
  if (!cited || text === '') {
    return { verdict: 'fail', line: 'an answer streamed, but it does not cite the probe document', hint };
  }
  return {
    verdict: 'ok',
    line: `answer streamed with a citation of the probe (first event after ${firstByteMs} ms)`,
  };
}

type Attempt<T> = { ok: true; value: T } | { ok: false; message: string };
async function attempt<T>(run: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
