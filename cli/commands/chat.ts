import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { type ApiClient, ApiError } from '../client/api-client.ts';
import { ask, resolveBot, startChat } from '../client/chat-session.ts';
import { type GlobalOptions, tenantClient } from '../client/connection.ts';
import type { AnswerTraceJson } from '../client/types.ts';
import { type RenderedAnswer, renderAnswer } from '../render/answer.ts';
import { handled } from '../render/errors.ts';
import { bold, cyan, dim, note } from '../render/style.ts';
import { explainLines } from '../render/trace.ts';

interface ChatOptions {
  readonly bot?: string;
  readonly message?: string;
  readonly explain?: boolean;
}

const write = (chunk: string) => void process.stdout.write(chunk);

/** `minirag chat`: an interactive loop, or one question with --message; answers stream as they arrive. */
export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('ask questions about your documents (streamed answers with numbered citations)')
    .option('--bot <id>', "the bot to use (default: the tenant's first bot, or a new extractive one)")
    .option('-m, --message <text>', 'ask one question, print the answer and exit')
    .option('--explain', 'after each answer, show why: the query, ranked candidates, context and timings')
    .action(
      handled(async (options: ChatOptions, command: Command) => {
        const client = await tenantClient(command.optsWithGlobals<GlobalOptions>(), note, { writes: true });
        const { bot, created } = await resolveBot(client, options.bot);
        if (created)
          note(
            dim(
              `Created "${bot.name}" (${bot.id}): no LLM, it answers by quoting your documents.`,
              process.stderr,
            ),
          );
        const chat = await startChat(client, bot.id);

        const answerAndExplain = (question: string, signal?: AbortSignal) =>
          answerOnce(client, chat.id, question, options.explain === true, signal);
        if (options.message !== undefined) {
          const answer = await answerAndExplain(options.message);
          if (answer.error) process.exitCode = 1;
          return;
        }
        await interactive(
          answerAndExplain,
          bot.name,
          bot.provider ? `${bot.provider}/${bot.model}` : 'extractive',
        );
      }),
    );
}

/** Streams one answer to the terminal; with `explain`, its trace follows. */
async function answerOnce(
  client: ApiClient,
  chatId: string,
  question: string,
  explain: boolean,
  signal?: AbortSignal,
): Promise<RenderedAnswer> {
  let messageId = '';
  async function* remembering() {
    for await (const event of ask(client, chatId, question, signal)) {
      if (event.type === 'meta') messageId = event.messageId;
      yield event;
    }
  }
  const answer = await renderAnswer(remembering(), write);
  if (explain && messageId && !answer.error) {
    try {
      const trace = await client.get<AnswerTraceJson>(
        `/v1/chats/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(messageId)}/trace`,
      );
      write(`\n${explainLines(trace).join('\n')}\n`);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
      note(
        dim('No trace was saved for this answer (the server runs with ANSWER_TRACES=false).', process.stderr),
      );
    }
  }
  return answer;
}

async function interactive(
  answer: (question: string, signal?: AbortSignal) => Promise<RenderedAnswer>,
  botName: string,
  model: string,
): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const tty = process.stdin.isTTY === true;
  if (tty) note(dim(`Chatting with ${botName} (${model}). Ctrl-D or "exit" to leave.`, process.stderr));
  // Ctrl-C during an answer stops that answer; at the prompt it leaves.
  let answering: AbortController | undefined;
  rl.on('SIGINT', () => {
    if (answering) answering.abort();
    else rl.close();
  });
  rl.setPrompt(`${bold('you ›')} `);
  const prompt = () => tty && rl.prompt();
  prompt();
  try {
    for await (const line of rl) {
      const question = line.trim();
      if (question === 'exit' || question === 'quit') break;
      if (!question) {
        prompt();
        continue;
      }
      answering = new AbortController();
      if (tty) write(`${cyan('bot ›')} `);
      try {
        await answer(question, answering.signal);
      } catch (error) {
        if ((error as Error)?.name !== 'AbortError') throw error;
        write(`\n${dim('(stopped)')}\n`);
      } finally {
        answering = undefined;
      }
      write('\n');
      prompt();
    }
  } finally {
    rl.close();
  }
}
