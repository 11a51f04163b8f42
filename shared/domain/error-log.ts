import { ProviderError } from './errors.ts';

/** One error of a cause chain as a log record shows it. */
export interface LoggedError {
  readonly class: string;
  readonly code?: string;
  readonly message: string;
  /** Frames only: the message line is `message`, already cut short. */
  readonly stack?: string;
}

const MAX_MESSAGE = 300;
const MAX_FRAMES = 12;

/**
 * The fields that make "it was logged" true: the error and each of its causes with class, code, message and
 * stack. Messages are cut to 300 characters, so a parser that quotes its input cannot copy a document into
 * the log. A ProviderError's own message is redacted by its adapter, but the provider SDK's error beneath it
 * may quote the request's API key back: below a ProviderError only class, code and stack are logged.
 */
export function errorLogFields(error: unknown): { error: LoggedError; causes?: LoggedError[] } {
  const chain: LoggedError[] = [];
  let withholdMessages = false;
  for (let e: unknown = error; e !== undefined && e !== null && chain.length < 5; ) {
    const described = describe(e);
    chain.push(
      withholdMessages
        ? { ...described, message: '(withheld: a provider message may quote credentials)' }
        : described,
    );
    if (e instanceof ProviderError) withholdMessages = true;
    e = e instanceof Error ? e.cause : undefined;
  }
  const [first, ...causes] = chain;
  return causes.length > 0 ? { error: first!, causes } : { error: first! };
}

function describe(e: unknown): LoggedError {
  if (!(e instanceof Error)) return { class: typeof e, message: String(e).slice(0, MAX_MESSAGE) };
  const code = (e as { code?: unknown }).code;
  const frames = e.stack
    ?.split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_FRAMES)
    .map((line) => line.trim())
    .join('\n');
  return {
    class: e.constructor?.name ?? e.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    message: e.message.slice(0, MAX_MESSAGE),
    ...(frames ? { stack: frames } : {}),
  };
}
