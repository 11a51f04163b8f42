import { createAnthropicChatModel } from '../adapters/anthropic/chat-model.ts';
import { createExtractiveAnswerer } from '../adapters/extractive/chat-model.ts';
import { createOpenAiChatModel } from '../adapters/openai/chat-model.ts';
import type { BotProfile, ProviderCredentials } from '../domain/bot.ts';
import { ProviderError } from '../domain/errors.ts';
import type { ChatModel } from '../ports/chat-model.ts';
import type { ChatModelFor } from '../usecases/answering/answer-question.ts';

/** Provider base URLs the operator may override (tests point them at local fakes). */
export interface ProviderEndpoints {
  readonly openaiBaseUrl?: string | undefined;
  readonly anthropicBaseUrl?: string | undefined;
}

/** Platform-level provider keys (the operator's own), for bots that store no key of their own. */
export interface PlatformProviderKeys {
  readonly openai?: string | undefined;
  readonly anthropic?: string | undefined;
}

/** The `chatModelFor` the answering use case is given: the platform's keys and endpoints, bound once. */
export function chatModelFactory(
  platformKeys: PlatformProviderKeys,
  endpoints: ProviderEndpoints = {},
): ChatModelFor {
  return (bot, credentials) => chatModelForBot(bot, credentials, platformKeys, endpoints);
}

/**
 * The ChatModel for one bot and one call. A bot without a provider answers extractively (no LLM); a bot
 * with a provider uses its own key, else the operator's platform key for that provider. The key lives
 * only inside the adapter built here, for this call.
 */
export function chatModelForBot(
  bot: BotProfile,
  credentials: ProviderCredentials | null,
  platformKeys: PlatformProviderKeys,
  endpoints: ProviderEndpoints = {},
): ChatModel {
  if (!bot.provider) return createExtractiveAnswerer();
  const model = bot.model ?? '';
  if (bot.provider === 'anthropic') {
    const apiKey = credentials?.apiKey ?? platformKeys.anthropic;
    if (!apiKey) throw missingKey(bot);
    return createAnthropicChatModel({ apiKey, model, baseURL: bot.baseUrl ?? endpoints.anthropicBaseUrl });
  }
  const apiKey = credentials?.apiKey ?? (bot.provider === 'openai' ? platformKeys.openai : undefined);
  if (!apiKey) throw missingKey(bot);
  return createOpenAiChatModel({
    apiKey,
    model,
    baseURL: bot.baseUrl ?? (bot.provider === 'openai' ? endpoints.openaiBaseUrl : undefined),
    organization: credentials?.organization,
    provider: bot.provider,
  });
}

function missingKey(bot: BotProfile): ProviderError {
  return new ProviderError(
    `Bot '${bot.name}' uses the ${bot.provider} provider but has no API key: set credentials.api_key on the bot.`,
    { status: 400 },
  );
}
