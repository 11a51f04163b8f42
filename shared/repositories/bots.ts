import { assignments, sql } from '../db/sql.ts';
import {
  type BotProfile,
  type BotProvider,
  DEFAULT_RETRIEVAL,
  type RetrievalSettings,
} from '../domain/bot.ts';
import type { TenantId } from '../domain/ids.ts';
import type { Queryable } from '../ports/database.ts';
import { afterCursor, type Page, type PageRequest, toPage } from './pagination.ts';

interface BotRow {
  id: string;
  tenant_id: string;
  name: string;
  provider: BotProvider | null;
  model: string | null;
  base_url: string | null;
  temperature: number | null;
  max_output_tokens: number | null;
  max_input_tokens: number | null;
  system_prompt: string | null;
  region: string | null;
  retrieval: Partial<RetrievalSettings>;
  credentials_last4: string | null;
  has_credentials: boolean;
  created_at: Date;
  updated_at: Date;
}

const toBot = (r: BotRow): BotProfile => {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    provider: r.provider,
    model: r.model,
    baseUrl: r.base_url,
    region: r.region,
    temperature: r.temperature,
    maxOutputTokens: r.max_output_tokens,
    maxInputTokens: r.max_input_tokens,
    systemPrompt: r.system_prompt,
    retrieval: { ...DEFAULT_RETRIEVAL, ...r.retrieval },
    credentialsLast4: r.credentials_last4,
    hasCredentials: r.has_credentials,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
};

// The encrypted envelope is read only by `findBotCredentials`, at the moment of a provider call.
const COLUMNS = sql`id, tenant_id, name, provider, model, base_url, region, temperature, max_output_tokens, max_input_tokens,
  system_prompt,
  retrieval, credentials_last4, credentials is not null as has_credentials, created_at, updated_at`;

export interface BotFields {
  name?: string | undefined;
  provider?: BotProvider | null | undefined;
  model?: string | null | undefined;
  baseUrl?: string | null | undefined;
  /** Bedrock bots only; given together with `provider` (another provider clears it). */
  region?: string | null | undefined;
  temperature?: number | null | undefined;
  maxOutputTokens?: number | null | undefined;
  maxInputTokens?: number | null | undefined;
  systemPrompt?: string | null | undefined;
  retrieval?: RetrievalSettings | undefined;
  /** The encrypted envelope (null clears it) and the last four characters of the plaintext key. */
  credentials?: { envelope: object; last4: string } | null | undefined;
}

/** Only a Bedrock bot has a region; changing the provider away from Bedrock clears it. */
const regionOf = (provider: BotProvider | null | undefined, region: string | null | undefined) =>
  provider === 'bedrock' ? (region ?? null) : null;

export async function insertBot(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
  f: BotFields,
): Promise<BotProfile> {
  const [row] = await tx.query<BotRow>(sql`
    insert into bot_profiles (id, tenant_id, name, provider, model, base_url, region, temperature,
                              max_output_tokens, max_input_tokens, system_prompt, retrieval, credentials,
                              credentials_last4)
    values (${id}, ${tenantId}, ${f.name}, ${f.provider ?? null}, ${f.model ?? null}, ${f.baseUrl ?? null},
            ${regionOf(f.provider, f.region) ?? null}, ${f.temperature ?? null}, ${f.maxOutputTokens ?? null},
            ${f.maxInputTokens ?? null}, ${f.systemPrompt ?? null}, ${f.retrieval ?? DEFAULT_RETRIEVAL}::jsonb,
            ${f.credentials?.envelope ?? null}::jsonb, ${f.credentials?.last4 ?? null})
    returning ${COLUMNS}`);
  return toBot(row!);
}

export async function updateBot(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
  f: BotFields,
): Promise<BotProfile | null> {
  const set = assignments([
    [sql`name`, f.name],
    [sql`provider`, f.provider],
    [sql`region`, f.provider === undefined ? undefined : regionOf(f.provider, f.region)],
    [sql`model`, f.model],
    [sql`base_url`, f.baseUrl],
    [sql`temperature`, f.temperature],
    [sql`max_output_tokens`, f.maxOutputTokens],
    [sql`max_input_tokens`, f.maxInputTokens],
    [sql`system_prompt`, f.systemPrompt],
    [sql`retrieval`, f.retrieval === undefined ? undefined : sql`${f.retrieval}::jsonb`],
    [
      sql`credentials`,
      f.credentials === undefined ? undefined : sql`${f.credentials?.envelope ?? null}::jsonb`,
    ],
    [sql`credentials_last4`, f.credentials === undefined ? undefined : (f.credentials?.last4 ?? null)],
  ]);
  const [row] = await tx.query<BotRow>(
    sql`update bot_profiles set ${set} where tenant_id = ${tenantId} and id = ${id} returning ${COLUMNS}`,
  );
  return row ? toBot(row) : null;
}

export async function findBot(tx: Queryable, tenantId: TenantId, id: string): Promise<BotProfile | null> {
  const [row] = await tx.query<BotRow>(
    sql`select ${COLUMNS} from bot_profiles where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row ? toBot(row) : null;
}

export async function listBots(
  tx: Queryable,
  tenantId: TenantId,
  page: PageRequest,
): Promise<Page<BotProfile>> {
  const rows = await tx.query<BotRow>(sql`
    select ${COLUMNS} from bot_profiles where tenant_id = ${tenantId} ${afterCursor(page.cursor)}
    order by created_at, id limit ${page.limit + 1}`);
  return toPage(rows.map(toBot), page.limit);
}

export async function deleteBot(tx: Queryable, tenantId: TenantId, id: string): Promise<boolean> {
  const rows = await tx.query(
    sql`delete from bot_profiles where tenant_id = ${tenantId} and id = ${id} returning id`,
  );
  return rows.length > 0;
}

/** The encrypted credential envelope of one bot: only the chat/ingest use cases call this. */
export async function findBotCredentials(
  tx: Queryable,
  tenantId: TenantId,
  id: string,
): Promise<unknown | null> {
  const [row] = await tx.query<{ credentials: unknown }>(
    sql`select credentials from bot_profiles where tenant_id = ${tenantId} and id = ${id}`,
  );
  return row?.credentials ?? null;
}
