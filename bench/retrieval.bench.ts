import { QdrantClient } from '@qdrant/js-client-rest';
import { ensureSpaceIndex } from '#shared/adapters/pgvector/schema.ts';
import { EXACT_SEARCH_BELOW, searchStatement } from '#shared/adapters/pgvector/vector-store.ts';
import { embeddingSpaceName } from '#shared/adapters/vector-space.ts';
import type { LocalPlatform } from '#shared/composition/local.ts';
import { type SqlFragment, sql } from '#shared/db/sql.ts';
import { newId, type TenantId } from '#shared/domain/ids.ts';
import { pointId } from '#shared/domain/point-id.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { replaceSourceChunks } from '#shared/repositories/chunks.ts';
import { setSourceStatus } from '#shared/repositories/sources.ts';
import { retrieveContext } from '#shared/usecases/answering/retrieve-context.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { insertBareSource } from '#test/fixtures/sources.ts';
import { passage, queryFor, TOPICS } from './lib/corpus.ts';
import { createBenchTenant, startEmbeddedPlatform } from './lib/embedded.ts';
import { type Bench, type Figure, figure } from './lib/report.ts';
import { type LatencySummary, summarize, timed } from './lib/stats.ts';

const TENANTS = 100;
const CHUNKS_PER_SOURCE = 50;
const UPSERT_BATCH = 500;

interface LoadedTenant {
  readonly id: TenantId;
  readonly topics: (readonly string[])[];
  readonly texts: { text: string; topic: readonly string[] }[];
}

/**
 * Adds `count` chunks to a tenant without the ingest pipeline (100k chunks through it would take far
 * too long for a bench): source and chunk rows through the repositories (replaceSourceChunks, so the
 * full-text column is filled as in ingest), vectors from the offline embedder through the vector store.
 */
async function addChunks(
  p: LocalPlatform,
  tenant: LoadedTenant,
  count: number,
  random: () => number,
  spent: { rows: number; vectors: number },
) {
  const rowsStart = performance.now();
  const rows: { sourceId: string; id: string; ordinal: number; content: string }[] = [];
  await p.db.withTenant(tenant.id, async (tx) => {
    for (let start = 0; start < count; start += CHUNKS_PER_SOURCE) {
      const sourceId = newId();
      await insertBareSource(tx, tenant.id, { id: sourceId, title: `Generated ${sourceId.slice(0, 8)}` });
      const chunks = [];
      for (let ordinal = 0; ordinal < Math.min(CHUNKS_PER_SOURCE, count - start); ordinal++) {
        const topic = tenant.topics[Math.floor(random() * tenant.topics.length)]!;
        const content = passage(random, topic);
        tenant.texts.push({ text: content, topic });
        const id = pointId(tenant.id, sourceId, 1, ordinal);
        rows.push({ sourceId, id, ordinal, content });
        chunks.push({
          id,
          ordinal,
          content,
          startOffset: 0,
          endOffset: content.length,
          tokenCount: countTokens(content),
        });
      }
      await replaceSourceChunks(tx, tenant.id, sourceId, 1, chunks);
      await setSourceStatus(tx, tenant.id, sourceId, 1, {
        status: 'COMPLETED',
        chunkCount: chunks.length,
        tokenCount: chunks.reduce((n, c) => n + c.tokenCount, 0),
      });
    }
  });
  const vectorsStart = performance.now();
  spent.rows += vectorsStart - rowsStart;
  for (let i = 0; i < rows.length; i += UPSERT_BATCH) {
    const batch = rows.slice(i, i + UPSERT_BATCH);
    const vectors: number[][] = [];
    for (let j = 0; j < batch.length; j += p.embedder.maxBatchSize) {
      const part = batch.slice(j, j + p.embedder.maxBatchSize).map((r) => r.content);
      vectors.push(...(await p.embedder.embed(part)).vectors);
    }
    await p.vectorStore.upsert(
      tenant.id,
      p.embedder.space,
      batch.map((r, k) => ({
        id: r.id,
        vector: vectors[k]!,
        sourceId: r.sourceId,
        sourceVersion: 1,
        chunkId: r.id,
        tags: [],
      })),
    );
  }
  spent.vectors += performance.now() - vectorsStart;
}

/** The space's shared HNSW index (not a large tenant's own). */
async function hnswIndexName(p: LocalPlatform): Promise<string | undefined> {
  const [row] = await p.db.withSystem((tx) =>
    tx.query<{ name: string }>(sql`
      select indexname as name from pg_indexes
      where tablename = 'chunk_vectors' and indexdef like ${`%${embeddingSpaceName(p.embedder.space)}%`}
        and indexdef not like '%tenant_id%'`),
  );
  return row?.name;
}

/**
 * Loads each tenant up to `perTenant` chunks. Inserting into a live HNSW graph costs ~3 ms a vector in
 * WASM, so the space's index is dropped for the load and rebuilt after it with the adapter's own DDL
 * (ensureSpaceIndex): the graph searched afterwards is the one `npm start` would have, built in one go.
 */
async function loadStage(
  p: LocalPlatform,
  fill: (spent: { rows: number; vectors: number }) => Promise<void>,
  pgvector: boolean,
) {
  await p.vectorStore.ensureSpace(p.embedder.space);
  const spent = { rows: 0, vectors: 0, index: 0 };
  if (!pgvector) {
    await fill(spent);
    return spent;
  }
  const index = await hnswIndexName(p);
  if (!index) throw new Error('the HNSW index of the space is missing');
  if (!/^chunk_vectors_hnsw_[0-9a-f]+$/.test(index)) throw new Error(`unexpected index name ${index}`);
  await p.db.withSystem((tx) => tx.execScript(`drop index ${index}`));
  await fill(spent);
  const indexStart = performance.now();
  await p.db.withSystem(async (tx) => {
    await tx.query(sql`select set_config('maintenance_work_mem', '1GB', true)`);
    await ensureSpaceIndex(tx, embeddingSpaceName(p.embedder.space), p.embedder.space.dimensions);
  });
  spent.index = performance.now() - indexStart;
  if ((await hnswIndexName(p)) !== index) throw new Error('the HNSW index was not rebuilt under its name');
  return spent;
}

/** The exact top-k of one tenant: every one of its vectors compared (the store's exact statement). */
async function exactTopK(p: LocalPlatform, tenantId: TenantId, vector: readonly number[], k: number) {
  return p.db.withTenant(tenantId, async (tx) => {
    const rows = await tx.query<{ chunk_id: string }>(
      searchStatement('exact', tenantId, p.embedder.space, vector, { limit: k }),
    );
    return rows.map((r) => r.chunk_id);
  });
}

/**
 * What the store did before it knew tenant sizes: the index-ordered statement with iterative scan in
 * relaxed order and ef_search = max(40, 2k), the planner free to pick the HNSW index or the tenant btree.
 */
async function plannedTopK(p: LocalPlatform, tenantId: TenantId, vector: readonly number[], k: number) {
  return p.db.withTenant(tenantId, async (tx) => {
    await tx.query(sql`
      select set_config('hnsw.iterative_scan', 'relaxed_order', true),
             set_config('hnsw.ef_search', ${String(Math.max(40, 2 * k))}, true)`);
    const rows = await tx.query<{ chunk_id: string }>(
      searchStatement('hnsw', tenantId, p.embedder.space, vector, { limit: k }),
    );
    return rows.map((r) => r.chunk_id);
  });
}

/** Qdrant's own exact search (no HNSW) over the tenant's points: the truth its HNSW answers are held to. */
async function qdrantExactTopK(
  client: QdrantClient,
  p: LocalPlatform,
  tenantId: TenantId,
  vector: readonly number[],
  k: number,
) {
  const { points } = await client.query(embeddingSpaceName(p.embedder.space), {
    query: [...vector],
    filter: { must: [{ key: 'tenant_id', match: { value: tenantId } }] },
    limit: k,
    params: { exact: true },
    with_payload: ['chunk_id'],
  });
  return points.map((pt) => String(pt.payload?.chunk_id));
}

const stripVector = (plan: string) => plan.replace(/'\[[^\]]*\]'/g, "'[…]'");

async function explain(p: LocalPlatform, tenantId: TenantId, statement: SqlFragment, setup = sql`select 1`) {
  return p.db.withTenant(tenantId, async (tx) => {
    await tx.query(setup);
    const rows = await tx.query<{ 'QUERY PLAN': string }>(sql`explain ${statement}`);
    return stripVector(rows.map((r) => r['QUERY PLAN']).join('\n'));
  });
}

/** The plans behind the figures, after ANALYZE: the exact statement must not touch the HNSW index. */
async function plans(p: LocalPlatform, tenant: LoadedTenant, vector: readonly number[]) {
  const space = p.embedder.space;
  const exact = await explain(
    p,
    tenant.id,
    searchStatement('exact', tenant.id, space, vector, { limit: 10 }),
  );
  if (/hnsw/i.test(exact)) throw new Error(`the exact statement used the HNSW index:\n${exact}`);
  const planned = await explain(
    p,
    tenant.id,
    searchStatement('hnsw', tenant.id, space, vector, { limit: 10 }),
    sql`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`,
  );
  const word = tenant.topics[0]![0]!;
  const fullText = await explain(
    p,
    tenant.id,
    sql`select id from chunks where tenant_id = ${tenant.id} and tsv @@ to_tsquery('english', ${word})`,
  );
  return { exact, planned, fullText: `(word "${word}")\n${fullText}` };
}

interface Measured {
  hybrid: LatencySummary;
  dense: LatencySummary;
  exact: LatencySummary;
  planned?: LatencySummary;
  denseRecall: number;
  plannedRecall?: number;
}

/** `queries` searches of tenants drawn by `pick`, after 20 warm-ups: hybrid, the store, exact, and the old plan. */
async function measure(
  p: LocalPlatform,
  pick: () => LoadedTenant,
  queries: number,
  random: () => number,
  qdrant: QdrantClient | undefined,
): Promise<Measured> {
  const hybrid: number[] = [];
  const dense: number[] = [];
  const exact: number[] = [];
  const planned: number[] = [];
  let denseOverlap = 0;
  let plannedOverlap = 0;
  const deps = { db: p.db, embedder: p.embedder, vectorStore: p.vectorStore };
  const warmup = 20;
  for (let i = 0; i < queries + warmup; i++) {
    const tenant = pick();
    const target = tenant.texts[Math.floor(random() * tenant.texts.length)]!;
    const query = queryFor(random, target.text, target.topic);
    const h = await timed(() => retrieveContext(tenant.id, query, { topK: 10 }, deps));
    const [vector] = (await p.embedder.embed([query])).vectors;
    const d = await timed(() => p.vectorStore.search(tenant.id, p.embedder.space, vector!, { limit: 10 }));
    const e = await timed(() =>
      qdrant ? qdrantExactTopK(qdrant, p, tenant.id, vector!, 10) : exactTopK(p, tenant.id, vector!, 10),
    );
    const o = qdrant ? undefined : await timed(() => plannedTopK(p, tenant.id, vector!, 10));
    if (h.value.chunks.length === 0) throw new Error(`hybrid search found nothing for "${query}"`);
    if (i < warmup) continue;
    hybrid.push(h.ms);
    dense.push(d.ms);
    exact.push(e.ms);
    const truth = new Set(e.value);
    denseOverlap += d.value.filter((hit) => truth.has(hit.chunkId)).length / Math.max(1, truth.size);
    if (o) {
      planned.push(o.ms);
      plannedOverlap += o.value.filter((id) => truth.has(id)).length / Math.max(1, truth.size);
    }
  }
  return {
    hybrid: summarize(hybrid),
    dense: summarize(dense),
    exact: summarize(exact),
    denseRecall: denseOverlap / queries,
    ...(qdrant ? {} : { planned: summarize(planned), plannedRecall: plannedOverlap / queries }),
  };
}

async function analyze(p: LocalPlatform, qdrant: QdrantClient | undefined) {
  // What autovacuum does on every PostgreSQL server; PGlite has no autovacuum, so the bench runs it.
  await p.db.withSystem((tx) =>
    tx.execScript(`analyze chunks; analyze sources;${qdrant ? '' : ' analyze chunk_vectors;'}`),
  );
}

function figuresFor(label: string, m: Measured, store: string, targets: { hybridP95?: boolean }): Figure[] {
  const recallTarget = { text: 'recall@10 ≥ 0.95 vs exact', met: (v: number) => v >= 0.95 };
  const out: Figure[] = [
    figure(`hybrid top-10 p50, ${label}`, m.hybrid.p50, 'ms', {
      label: 'exact scan of the tenant (dense only) p50',
      value: m.exact.p50,
    }),
    figure(
      `hybrid top-10 p95, ${label}`,
      m.hybrid.p95,
      'ms',
      { label: 'exact scan of the tenant (dense only) p95', value: m.exact.p95 },
      targets.hybridP95 ? { text: 'p95 ≤ 25 ms', met: (v) => v <= 25 } : undefined,
    ),
    figure(
      `${store} search recall@10, ${label}`,
      m.denseRecall,
      '',
      { label: 'exact search', value: 1 },
      recallTarget,
    ),
    figure(`${store} search top-10 p50 / p95, ${label}`, m.dense.p50, 'ms', {
      label: 'exact search p50',
      value: m.exact.p50,
    }),
    figure(`${store} search top-10 p95, ${label}`, m.dense.p95, 'ms', {
      label: 'exact search p95',
      value: m.exact.p95,
    }),
  ];
  if (m.planned && m.plannedRecall !== undefined)
    out.push(
      figure(`before: planner-chosen HNSW statement recall@10, ${label}`, m.plannedRecall, '', {
        label: 'exact search',
        value: 1,
      }),
      figure(`before: planner-chosen HNSW statement p95, ${label}`, m.planned.p95, 'ms', {
        label: 'exact search p95',
        value: m.exact.p95,
      }),
    );
  return out;
}

export const retrievalBench: Bench = {
  name: 'retrieval',
  async run(ctx) {
    const stages = ctx.quick ? [10_000] : [10_000, 100_000];
    const queries = ctx.quick ? 100 : 150;
    const qdrantUrl = process.env.QDRANT_URL;
    const store = qdrantUrl ? 'Qdrant' : 'pgvector';
    const embedded = await startEmbeddedPlatform(
      qdrantUrl
        ? {
            VECTOR_STORE: 'qdrant',
            QDRANT_URL: qdrantUrl,
            ...(process.env.QDRANT_API_KEY ? { QDRANT_API_KEY: process.env.QDRANT_API_KEY } : {}),
          }
        : {},
    );
    const qdrant = qdrantUrl
      ? new QdrantClient({
          url: qdrantUrl,
          ...(process.env.QDRANT_API_KEY ? { apiKey: process.env.QDRANT_API_KEY } : {}),
          checkCompatibility: false,
        })
      : undefined;
    const p = embedded.platform;
    const random = seededRandom(7);
    const figures: Figure[] = [];
    const notes: string[] = [];
    const details: Record<string, unknown> = { store };
    const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    try {
      const tenants: LoadedTenant[] = [];
      for (let t = 0; t < TENANTS; t++) {
        const { auth } = await createBenchTenant(p, `retrieval${t}`);
        // Each tenant writes about three of the twelve topics, so tenants overlap in vocabulary.
        const topics = [0, 1, 2].map((k) => TOPICS[(t + k * 5) % TOPICS.length]!);
        tenants.push({ id: auth.tenantId, topics, texts: [] });
      }
      const anyTenant = () => tenants[Math.floor(random() * tenants.length)]!;
      const large = tenants[0]!;
      const smallOnes = () => tenants[1 + Math.floor(random() * (tenants.length - 1))]!;
      const fillEvenly = (perTenant: number) => async (spent: { rows: number; vectors: number }) => {
        for (const tenant of tenants)
          await addChunks(p, tenant, Math.max(0, perTenant - tenant.texts.length), random, spent);
      };
      const logged = (label: string, m: Measured) =>
        ctx.log(
          `  ${label}: hybrid p50/p95 ${m.hybrid.p50.toFixed(1)}/${m.hybrid.p95.toFixed(1)} ms; store recall ${m.denseRecall.toFixed(3)} p50/p95 ${m.dense.p50.toFixed(1)}/${m.dense.p95.toFixed(1)} ms; exact p50/p95 ${m.exact.p50.toFixed(1)}/${m.exact.p95.toFixed(1)} ms` +
            (m.planned
              ? `; before: recall ${m.plannedRecall?.toFixed(3)} p50/p95 ${m.planned.p50.toFixed(1)}/${m.planned.p95.toFixed(1)} ms`
              : ''),
        );
      const first = stages[0]!;
      const loaded = async (fill: (spent: { rows: number; vectors: number }) => Promise<void>) => {
        const load = await timed(() => loadStage(p, fill, !qdrant));
        const spent = `${secs(load.ms)} (rows ${secs(load.value.rows)}, vectors ${secs(load.value.vectors)}, HNSW build ${secs(load.value.index)})`;
        await analyze(p, qdrant);
        return { load, spent };
      };

      // Even: every tenant the same size.
      {
        const { load, spent } = await loaded(fillEvenly(first / TENANTS));
        ctx.log(`${first} chunks loaded in ${spent}; ANALYZE; ${queries} queries`);
        const m = await measure(p, anyTenant, queries, random, qdrant);
        const label = `${first / 1000}k chunks / ${TENANTS} tenants, after ANALYZE`;
        logged(label, m);
        figures.push(...figuresFor(label, m, store, {}));
        details[`${first}`] = { loadMs: load.ms, ...load.value, ...m };
        notes.push(`${label}: loading took ${spent}.`);
      }

      // Skewed: the first tenant grows past the exact-search threshold, to two thirds of all rows; the 99
      // others stay small.
      const growth = Math.max(first, EXACT_SEARCH_BELOW);
      const skewLoad = await loaded(async (spent) => {
        for (let added = 0; added < growth; added += 5_000)
          await addChunks(p, large, Math.min(5_000, growth - added), random, spent);
      });
      const skewRows = tenants.reduce((n, t) => n + t.texts.length, 0);
      const skewLabel = `skewed ${(skewRows / 1000).toFixed(1)}k chunks (one tenant ${(large.texts.length / 1000).toFixed(1)}k, 99 of ${first / TENANTS}), after ANALYZE`;
      ctx.log(
        `skewed: ${growth} chunks added to one tenant in ${skewLoad.spent}; ANALYZE; ${queries} + ${queries} queries`,
      );
      const skewSmall = await measure(p, smallOnes, queries, random, qdrant);
      logged(`small tenant, ${skewLabel}`, skewSmall);
      const skewLarge = await measure(p, () => large, queries, random, qdrant);
      logged(`the large tenant, ${skewLabel}`, skewLarge);
      figures.push(
        ...figuresFor(`small tenant, ${skewLabel}`, skewSmall, store, { hybridP95: true }),
        ...figuresFor(`the large tenant, ${skewLabel}`, skewLarge, store, {}),
      );
      details.skewed = {
        loadMs: skewLoad.load.ms,
        ...skewLoad.load.value,
        small: skewSmall,
        large: skewLarge,
      };

      // At scale: the other 99 tenants grow to 1% of 100k each (the large one stays as it is).
      for (const total of stages.slice(1)) {
        const { load, spent } = await loaded(fillEvenly(total / TENANTS));
        const rows = tenants.reduce((n, t) => n + t.texts.length, 0);
        ctx.log(`${rows} chunks loaded in ${spent}; ANALYZE; ${queries} + ${queries} queries`);
        const label = `${Math.round(rows / 1000)}k chunks / ${TENANTS} tenants, 1% tenant, after ANALYZE`;
        const m = await measure(p, smallOnes, queries, random, qdrant);
        logged(label, m);
        const largeLabel = `${Math.round(rows / 1000)}k chunks / ${TENANTS} tenants, the ${(large.texts.length / 1000).toFixed(1)}k tenant, after ANALYZE`;
        const l = await measure(p, () => large, queries, random, qdrant);
        logged(largeLabel, l);
        figures.push(
          ...figuresFor(label, m, store, { hybridP95: true }),
          ...figuresFor(largeLabel, l, store, {}),
        );
        details[`${total}`] = { loadMs: load.ms, ...load.value, small: m, large: l };
        notes.push(`${label}: loading took ${spent}.`);
      }
      if (!qdrant) {
        const [probe] = (await p.embedder.embed([tenants[1]!.texts[0]!.text])).vectors;
        const smallPlans = await plans(p, tenants[1]!, probe!);
        const largePlans = await plans(p, large, probe!);
        details.plans = { small: smallPlans, large: largePlans };
        ctx.log(
          `plans, small tenant:\n${smallPlans.exact}\n--\n${smallPlans.planned}\n--\n${smallPlans.fullText}\nplans, large tenant full text:\n${largePlans.fullText}`,
        );
        const usesHnsw = (plan: string) =>
          /hnsw/i.test(plan) ? 'the HNSW index' : 'no HNSW index (tenant btree + sort)';
        const ftIndex = (plan: string) =>
          /Index Cond: \(\(tenant_id = .*\) AND \(tsv @@/s.test(plan)
            ? 'one GIN index on (tenant_id, tsv)'
            : /chunks_tenant_tsv_idx/.test(plan)
              ? 'the (tenant_id, tsv) GIN index'
              : /chunks_source_idx/.test(plan)
                ? 'the tenant btree, then the tsvector test'
                : 'neither index';
        notes.push(
          `Plans after ANALYZE (latest.json): for a small tenant the index-ordered statement the store used before would take ${usesHnsw(smallPlans.planned)}; the store's exact statement takes ${usesHnsw(smallPlans.exact)}. Full text for a small tenant: ${ftIndex(smallPlans.fullText)}; for the large tenant: ${ftIndex(largePlans.fullText)}.`,
          `Exact below ${EXACT_SEARCH_BELOW} vectors: the exact scan cost p50 ${skewSmall.exact.p50.toFixed(1)} ms for a ${first / TENANTS}-vector tenant and ${skewLarge.exact.p50.toFixed(1)} ms for the ${large.texts.length}-vector one, the store's HNSW search p50 ${skewLarge.dense.p50.toFixed(1)} ms for it.`,
        );
      }
      notes.push(
        qdrant
          ? `Vector store: Qdrant at QDRANT_URL (collection per embedding space, tenant_id keyword index with is_tenant, per-tenant graphs with payload_m 16). "Exact" is Qdrant's own exact search (params.exact) with the same tenant filter.`
          : `Embedded mode: PGlite (PostgreSQL in WASM, one connection) + pgvector, offline 384-dim embedder, one Node process; every query runs as a tenant transaction under RLS. The store searches a tenant with fewer than ${EXACT_SEARCH_BELOW} vectors exactly (a materialized CTE the HNSW index cannot serve) and a larger one through the HNSW index with iterative scan. "Before" = the index-ordered statement the store ran for every tenant until now, planner free, after ANALYZE.`,
        `Chunks were loaded without the ingest pipeline (too slow for 100k): sources + chunk rows through insertSource/replaceSourceChunks (the tsvector column is generated as in ingest), offline-embedder vectors of generated ~250-word passages through vectorStore.upsert. ${CHUNKS_PER_SOURCE} chunks per source, evenly over ${TENANTS} tenants, each writing about 3 of 12 topics; then ${Math.max(first, EXACT_SEARCH_BELOW)} more for the first tenant (skewed: past the exact-search threshold, two thirds of the rows), then the 99 others up to 1% of 100k each.`,
        `Queries: 2-4 topic words of a random chunk of the tenant; ${queries} measured after 20 warm-up ones, every stage after ANALYZE of chunks, sources and chunk_vectors (what autovacuum does on a server). Hybrid = retrieveContext(topK 10, 40 candidates per side: query embedding, vector search, full-text search, fusion, chunk rows). Store search = vectorStore.search(limit 10), embedding excluded.`,
      );
    } finally {
      await embedded.dispose();
    }
    return { figures, notes, details };
  },
};
