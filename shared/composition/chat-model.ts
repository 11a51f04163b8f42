import type { EndpointPolicy } from '../adapters/provider-endpoint.ts';
import type { BotProfile, ProviderCredentials } from '../domain/bot.ts';
import { ProviderError } from '../domain/errors.ts';
import type { ChatModel } from '../ports/chat-model.ts';
import type { ChatModelFor } from '../usecases/answering/answer-question.ts';
import { OWN_KEY_FOR_CUSTOM_URL } from '../usecases/bots.ts';

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
  endpoints: ProviderEndpoints,
  policy: EndpointPolicy,
): ChatModelFor {
  return (bot, credentials) => chatModelForBot(bot, credentials, platformKeys, endpoints, policy);
}

/**
 * The ChatModel for one bot and one call. A bot without a provider answers extractively (no LLM); a bot
 * with a provider uses its own key, else the operator's platform key for that provider — and the platform
 * key only ever goes to the operator's endpoint, never to a bot's own base_url (bots stored before that
 * rule was enforced at create/update are refused here). The key lives only inside the adapter built here,
 * for this call.
 *
 * A bot's own base_url is a host the tenant chose: it is connected to only through a pinned, SSRF-guarded
 * fetch (public addresses only; loopback when `policy.allowLoopback`), and its error text is never quoted
 * back. The operator's endpoints are trusted as configured.
 */
export async function chatModelForBot(
  bot: BotProfile,
  credentials: ProviderCredentials | null,
  platformKeys: PlatformProviderKeys,
  endpoints: ProviderEndpoints,
  policy: EndpointPolicy,
): Promise<ChatModel> {
  // Each adapter (and its SDK) is loaded on the first call that needs it: a cold start that serves no
  // chat never parses the provider SDKs (see deferred.ts).
  if (!bot.provider) return (await import('../adapters/extractive/chat-model.ts')).createExtractiveAnswerer();
  if (bot.baseUrl && !credentials?.apiKey) {
    throw new ProviderError(`Bot '${bot.name}': ${OWN_KEY_FOR_CUSTOM_URL}`, { status: 400 });
  }
  const own = bot.baseUrl
    ? {
        fetch: await (await import('../adapters/provider-endpoint.ts')).pinnedProviderFetch(
          bot.baseUrl,
          policy,
        ),
        quoteProviderMessages: false,
      }
    : {};
  const model = bot.model ?? '';
  if (bot.provider === 'anthropic') {
    const apiKey = credentials?.apiKey ?? platformKeys.anthropic;
    if (!apiKey) throw missingKey(bot);
    const { createAnthropicChatModel } = await import('../adapters/anthropic/chat-model.ts');
    return createAnthropicChatModel({
      apiKey,
      model,
      baseURL: bot.baseUrl ?? endpoints.anthropicBaseUrl,
      ...own,
    });
  }
  const apiKey = credentials?.apiKey ?? (bot.provider === 'openai' ? platformKeys.openai : undefined);
  if (!apiKey) throw missingKey(bot);
  const { createOpenAiChatModel } = await import('../adapters/openai/chat-model.ts');
  return createOpenAiChatModel({
    apiKey,
    model,
    baseURL: bot.baseUrl ?? (bot.provider === 'openai' ? endpoints.openaiBaseUrl : undefined),
    organization: credentials?.organization,
    provider: bot.provider,
    ...own,
  });
}

function missingKey(bot: BotProfile): ProviderError {
  return new ProviderError(
    `Bot '${bot.name}' uses the ${bot.provider} provider but has no API key: set credentials.api_key on the bot.`,
    { status: 400 },
  );
}
