import { requireScope } from '../auth/authorize.ts';
import { parseEnvelope } from '../crypto/envelope.ts';
import type { AuthContext } from '../domain/auth-context.ts';
import type {
  BotProfile,
  BotProvider,
  ProviderCredentials,
  RerankSettings,
  RetrievalSettings,
} from '../domain/bot.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { newId, type TenantId } from '../domain/ids.ts';
import type { Database } from '../ports/database.ts';
import type { EncryptionContext, KeyVault } from '../ports/key-vault.ts';
import { providerEndpointRefusal } from '../rag/fetch/index.ts';
import { type BotFields, deleteBot, findBot, insertBot, listBots, updateBot } from '../repositories/bots.ts';
import type { Page, PageRequest } from '../repositories/pagination.ts';

export interface BotInput {
  name?: string | undefined;
  provider?: BotProvider | null | undefined;
  model?: string | null | undefined;
  baseUrl?: string | null | undefined;
  region?: string | null | undefined;
  temperature?: number | null | undefined;
  maxOutputTokens?: number | null | undefined;
  maxInputTokens?: number | null | undefined;
  systemPrompt?: string | null | undefined;
  retrieval?: Partial<RetrievalSettings> | undefined;
  credentials?: ProviderCredentials | null | undefined;
}

export interface BotDeps {
  readonly db: Database;
  readonly vault: KeyVault;
  /** Local mode lets bots use http://localhost model servers. */
  readonly allowLocalProviderUrls: boolean;
  /** The Bedrock models the deployment allows (its IAM policy lists only these); empty or absent: any. */
  readonly bedrockModels?: readonly string[] | undefined;
}

export const DEFAULT_MODELS: Record<BotProvider, string | null> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-5-haiku-latest',
  'openai-compatible': null,
  bedrock: 'amazon.nova-lite-v1:0',
};

/** Model ids (`anthropic.claude-…`), cross-region inference profile ids (`us.…`) and their ARNs. */
const BEDROCK_MODEL_ID = /^(arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d{0,12}:[a-z-]+\/)?[a-z0-9][\w.:-]{2,199}$/i;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

export const BEDROCK_NO_CREDENTIALS =
  "A bedrock bot has no credentials: Amazon Bedrock is called with the deployment's own AWS identity (IAM), not a key.";

const context = (tenantId: string, botProfileId: string): EncryptionContext => ({
  tenantId,
  botProfileId,
  purpose: 'bot-credentials',
});

/** Provider, model and base URL must make sense together; checked on the bot as it will be after the change. */
function validate(
  bot: { provider: BotProvider | null; model: string | null; baseUrl: string | null; region: string | null },
  deps: BotDeps,
) {
  const { provider, model, baseUrl, region } = bot;
  if (!provider) {
    if (model || baseUrl) throw new ValidationError('model and base_url need a provider.');
  }
  if (region && provider !== 'bedrock') throw new ValidationError('region is only for the bedrock provider.');
  if (!provider) return;
  if (!model) throw new ValidationError(`A model is required for the ${provider} provider.`);
  if (provider === 'bedrock') return validateBedrock(model, baseUrl, region, deps);
  if (provider === 'anthropic' && !/^claude[-\w.:]*$/.test(model)) {
    throw new ValidationError(`'${model}' is not an Anthropic model (they are named claude-…).`);
  }
  if (provider === 'openai' && /^claude/.test(model)) {
    throw new ValidationError(`'${model}' is an Anthropic model; use the anthropic provider.`);
  }
  if (provider === 'openai-compatible' && !baseUrl) {
    throw new ValidationError('The openai-compatible provider needs a base_url.');
  }
  if (baseUrl) {
    const url = new URL(baseUrl);
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local && deps.allowLocalProviderUrls)) {
      throw new ValidationError(
        deps.allowLocalProviderUrls
          ? 'base_url must use https (http is allowed only for localhost).'
          : 'base_url must use https.',
      );
    }
    // A literal private address is refused now; a host name is checked by its addresses at each chat.
    const refusal = providerEndpointRefusal(baseUrl, { allowLoopback: deps.allowLocalProviderUrls });
    if (refusal) throw new ValidationError(`${refusal}: a bot may only use a public server.`);
  }
}

function validateBedrock(model: string, baseUrl: string | null, region: string | null, deps: BotDeps) {
  if (baseUrl) {
    throw new ValidationError(
      "The bedrock provider takes no base_url: it is reached through the deployment's AWS endpoints.",
    );
  }
  if (!BEDROCK_MODEL_ID.test(model)) {
    throw new ValidationError(
      `'${model}' is not a Bedrock model id or inference profile id (e.g. amazon.nova-lite-v1:0, us.anthropic.claude-…).`,
    );
  }
  if (region && !AWS_REGION.test(region)) {
    throw new ValidationError(`'${region}' is not an AWS region (e.g. us-east-1).`);
  }
  const allowed = deps.bedrockModels ?? [];
  if (allowed.length > 0 && !allowed.includes(model)) {
    throw new ValidationError(
      `This deployment allows these Bedrock models: ${allowed.join(', ')}. '${model}' is not one of them (the operator adds it to bedrockModels).`,
    );
  }
}

/**
 * The platform's provider keys go only to the endpoint the operator configured: a bot that names its own
 * base_url (any host a tenant chooses) must bring its own key, or the platform key would be sent there.
 */
export const OWN_KEY_FOR_CUSTOM_URL =
  'A bot with a custom base_url must carry its own API key (credentials.api_key): the platform provider keys are sent only to the operator-configured endpoint.';

function assertOwnKeyForCustomUrl(bot: { baseUrl: string | null; hasCredentials: boolean }): void {
  if (bot.baseUrl && !bot.hasCredentials) throw new ValidationError(OWN_KEY_FOR_CUSTOM_URL);
}

async function sealCredentials(
  deps: BotDeps,
  tenantId: string,
  botId: string,
  credentials: ProviderCredentials | null | undefined,
): Promise<BotFields['credentials']> {
  if (credentials === undefined || credentials === null) return credentials;
  const envelope = await deps.vault.encrypt(JSON.stringify(credentials), context(tenantId, botId));
  return { envelope, last4: credentials.apiKey.slice(-4) };
}

export async function createBot(
  auth: AuthContext,
  input: BotInput & { name: string },
  deps: BotDeps,
): Promise<BotProfile> {
  requireScope(auth, 'bots:write');
  const provider = input.provider ?? null;
  const model = input.model ?? (provider ? DEFAULT_MODELS[provider] : null);
  validate({ provider, model, baseUrl: input.baseUrl ?? null, region: input.region ?? null }, deps);
  if (input.credentials && !provider) throw new ValidationError('credentials need a provider.');
  if (input.credentials && provider === 'bedrock') throw new ValidationError(BEDROCK_NO_CREDENTIALS);
  assertOwnKeyForCustomUrl({ baseUrl: input.baseUrl ?? null, hasCredentials: Boolean(input.credentials) });
  const id = newId();
  const credentials = await sealCredentials(deps, auth.tenantId, id, input.credentials);
  return deps.db.withTenant(auth.tenantId, (tx) =>
    insertBot(tx, auth.tenantId, id, {
      ...input,
      model,
      retrieval: retrievalOf(deps, input.retrieval),
      credentials,
    }),
  );
}

function retrievalOf(
  deps: BotDeps,
  input: Partial<RetrievalSettings> | undefined,
  current?: RetrievalSettings,
): RetrievalSettings | undefined {
  if (!input) return current;
  const rerank = input.rerank !== undefined ? input.rerank : current?.rerank;
  if (rerank && input.rerank) validateRerank(rerank, deps);
  return {
    topK: input.topK ?? current?.topK ?? 6,
    scoreThreshold:
      input.scoreThreshold !== undefined ? input.scoreThreshold : (current?.scoreThreshold ?? null),
    tags: input.tags ?? current?.tags ?? [],
    queryExpansion: input.queryExpansion ?? current?.queryExpansion ?? false,
    // Stored only when on: reranking is off by default.
    ...(rerank ? { rerank } : {}),
  };
}

function validateRerank(rerank: RerankSettings, deps: BotDeps): void {
  if (rerank.provider !== 'bedrock') return;
  if (!BEDROCK_MODEL_ID.test(rerank.model)) {
    throw new ValidationError(
      `'${rerank.model}' is not a Bedrock rerank model id or ARN (e.g. amazon.rerank-v1:0, cohere.rerank-v3-5:0).`,
    );
  }
  const allowed = deps.bedrockModels ?? [];
  if (allowed.length > 0 && !allowed.includes(rerank.model)) {
    throw new ValidationError(
      `This deployment allows these Bedrock models: ${allowed.join(', ')}. The rerank model '${rerank.model}' is not one of them.`,
    );
  }
}

export async function changeBot(
  auth: AuthContext,
  id: string,
  input: BotInput,
  deps: BotDeps,
): Promise<BotProfile> {
  requireScope(auth, 'bots:write');
  const current = await getBot(auth, id, deps);
  const provider = input.provider !== undefined ? input.provider : current.provider;
  const providerChanged = input.provider !== undefined && input.provider !== current.provider;
  const model =
    input.model !== undefined
      ? input.model
      : providerChanged
        ? provider
          ? DEFAULT_MODELS[provider]
          : null
        : current.model;
  const baseUrl = input.baseUrl !== undefined ? input.baseUrl : current.baseUrl;
  // A region belongs to Bedrock: leaving Bedrock drops it.
  const region =
    input.region !== undefined
      ? input.region
      : provider === 'bedrock' && !providerChanged
        ? current.region
        : null;
  validate({ provider, model, baseUrl, region }, deps);
  if (input.credentials && provider === 'bedrock') throw new ValidationError(BEDROCK_NO_CREDENTIALS);
  // A key for one provider must not silently be sent to another: switching provider drops it.
  const keptKey = input.credentials === undefined && !providerChanged && current.hasCredentials;
  assertOwnKeyForCustomUrl({ baseUrl, hasCredentials: Boolean(input.credentials) || keptKey });
  const credentials =
    input.credentials !== undefined
      ? await sealCredentials(deps, auth.tenantId, id, input.credentials)
      : providerChanged
        ? null
        : undefined;
  if (credentials && !provider) throw new ValidationError('credentials need a provider.');
  const updated = await deps.db.withTenant(auth.tenantId, (tx) =>
    updateBot(tx, auth.tenantId, id, {
      ...input,
      provider,
      model,
      baseUrl,
      region,
      retrieval: retrievalOf(deps, input.retrieval, current.retrieval),
      credentials,
    }),
  );
  if (!updated) throw new NotFoundError('Bot');
  return updated;
}

export async function getBot(auth: AuthContext, id: string, deps: { db: Database }): Promise<BotProfile> {
  requireScope(auth, 'read');
  const bot = await deps.db.withTenant(auth.tenantId, (tx) => findBot(tx, auth.tenantId, id));
  if (!bot) throw new NotFoundError('Bot');
  return bot;
}

export function listTenantBots(
  auth: AuthContext,
  page: PageRequest,
  deps: { db: Database },
): Promise<Page<BotProfile>> {
  requireScope(auth, 'read');
  return deps.db.withTenant(auth.tenantId, (tx) => listBots(tx, auth.tenantId, page));
}

export async function removeBot(auth: AuthContext, id: string, deps: { db: Database }): Promise<void> {
  requireScope(auth, 'bots:write');
  const removed = await deps.db.withTenant(auth.tenantId, (tx) => deleteBot(tx, auth.tenantId, id));
  if (!removed) throw new NotFoundError('Bot');
}

/**
 * Decrypts a bot's stored credential envelope (read with `findBotCredentials`) for exactly one provider
 * call. Only the chat use case calls this, after its database transaction has ended, so no connection is
 * held while the key service answers; the plaintext is never stored or returned.
 */
export async function openBotCredentials(
  stored: unknown,
  tenantId: TenantId,
  botId: string,
  vault: KeyVault,
): Promise<ProviderCredentials | null> {
  if (!stored) return null;
  const plaintext = await vault.decrypt(parseEnvelope(stored), context(tenantId, botId));
  return JSON.parse(plaintext) as ProviderCredentials;
}
