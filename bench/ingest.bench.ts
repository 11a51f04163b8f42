import { createLocalServer } from '#cli/server/local-server.ts';
import { createBedrockClients } from '#shared/adapters/bedrock/clients.ts';
import { createBedrockEmbedder } from '#shared/adapters/bedrock/embedder.ts';
import type { Source } from '#shared/domain/source.ts';
import type { Embedder } from '#shared/ports/embedder.ts';
import { chunkText } from '#shared/rag/chunking/index.ts';
import { embedInBatches } from '#shared/rag/embedding/index.ts';
import { normalizeText } from '#shared/rag/normalize-text.ts';
import { createSource, listTenantSources } from '#shared/usecases/sources.ts';
import { FAKE_AWS_CREDENTIALS, startFakeBedrock } from '#test/fakes/bedrock-server.ts';
import { seededRandom } from '#test/fixtures/seeded-random.ts';
import { markdownDocument, TOPICS } from './lib/corpus.ts';
import { createBenchTenant, startEmbeddedPlatform } from './lib/embedded.ts';
import { type Bench, figure } from './lib/report.ts';
import { median, timed } from './lib/stats.ts';

/** Counts the calls the pipeline makes (one call = one provider request for a real embedder). */
function countingEmbedder(inner: Embedder) {
  const counts = { calls: 0, inputs: 0 };
  const embedder: Embedder = {
    space: inner.space,
    maxBatchSize: inner.maxBatchSize,
    embed(texts, options) {
      counts.calls++;
      counts.inputs += texts.length;
      return inner.embed(texts, options);
    },
  };
  return { embedder, counts };
}

/** Mostly small documents and a few long ones (> 128 chunks), as a knowledge base has. */
function documents(count: number): string[] {
  const random = seededRandom(23);
  return Array.from({ length: count }, (_, i) =>
    markdownDocument(random, TOPICS[i % TOPICS.length]!, i % 25 === 24 ? 220 : 2 + Math.floor(random() * 14)),
  );
}

export const ingestBench: Bench = {
  name: 'ingest',
  async run(ctx) {
    const docs = documents(ctx.quick ? 50 : 150);
    const embedded = await startEmbeddedPlatform();
    const p = embedded.platform;
    const { embedder, counts } = countingEmbedder(p.embedder);
    const { worker } = createLocalServer({ ...p, embedder });
    try {
      const deps = { ...p, embedder, embeddingSpace: embedder.space };
      /**
       * Ingests `docs` into a fresh tenant. `backlog`: every source is queued before the worker starts (a bulk
       * import, or SQS filling a batch), so claims take full groups; otherwise the worker runs while sources
       * arrive one by one and claims whatever has arrived since its last claim.
       */
      async function ingestAll(name: string, backlog: boolean) {
        const tenant = await createBenchTenant(p, name);
        const callsBefore = counts.calls;
        if (!backlog) worker.start();
        const run = await timed(async () => {
          for (const [i, content] of docs.entries()) {
            await createSource(tenant.auth, { title: `Doc ${i}`, type: 'markdown', content }, deps);
          }
          if (backlog) worker.start();
          await worker.idle();
        });
        await worker.stop();
        const completed: Source[] = [];
        let cursor: string | undefined;
        do {
          const page = await listTenantSources(tenant.auth, {}, { limit: 200, cursor }, deps);
          completed.push(...page.data);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        const notDone = completed.filter((s) => s.status !== 'COMPLETED');
        if (notDone.length > 0 || completed.length !== docs.length) {
          throw new Error(`${notDone.length} of ${completed.length} sources did not complete`);
        }
        return { ms: run.ms, calls: counts.calls - callsBefore, completed };
      }
      const trickle = await ingestAll('ingest-trickle', false);
      const backlog = await ingestAll('ingest-backlog', true);

      /**
       * The same documents queued first, embedded with Cohere Embed on Bedrock (the stand-in speaks its wire
       * format through the real SDK): requests counted as the stand-in received them.
       */
      async function cohereBacklog() {
        const bedrock = await startFakeBedrock();
        try {
          const client = createBedrockClients({
            defaultRegion: 'us-east-1',
            runtimeEndpoint: bedrock.url,
            credentials: FAKE_AWS_CREDENTIALS,
          }).runtime();
          const cohere = createBedrockEmbedder({
            client,
            region: 'us-east-1',
            model: 'cohere.embed-english-v3',
          });
          await p.vectorStore.ensureSpace(cohere.space);
          const { worker: cohereWorker } = createLocalServer({ ...p, embedder: cohere });
          const tenant = await createBenchTenant(p, 'ingest-cohere');
          const cohereDeps = { ...p, embedder: cohere, embeddingSpace: cohere.space };
          for (const [i, content] of docs.entries()) {
            await createSource(tenant.auth, { title: `Doc ${i}`, type: 'markdown', content }, cohereDeps);
          }
          cohereWorker.start();
          await cohereWorker.idle();
          await cohereWorker.stop();
          const sources = await listTenantSources(tenant.auth, {}, { limit: 200 }, cohereDeps);
          const cohereChunks = sources.data.reduce((n, src) => n + src.chunkCount, 0);
          const calls = bedrock.requests.filter((r) => r.endpoint === 'invoke' && r.status === 200).length;
          return { calls, chunks: cohereChunks, floor: Math.ceil(cohereChunks / 96) };
        } finally {
          await bedrock.close();
        }
      }
      const cohere = await cohereBacklog();
      const endToEnd = trickle;
      const completed = trickle.completed;
      const chunks = completed.reduce((n, s) => n + s.chunkCount, 0);
      const sizes = completed.map((s) => s.chunkCount).sort((a, b) => a - b);
      const perSourceCalls = completed.reduce(
        (n, s) => n + Math.ceil(s.chunkCount / embedder.maxBatchSize),
        0,
      );
      const floor = Math.ceil(chunks / embedder.maxBatchSize);

      // The same documents through the pipeline's CPU steps only (normalise, chunk, embed), no database.
      const computeRuns: number[] = [];
      for (let r = 0; r < (ctx.quick ? 1 : 3); r++) {
        computeRuns.push(
          (
            await timed(async () => {
              for (const content of docs) {
                const pieces = chunkText(normalizeText(content), {
                  maxTokens: p.config.CHUNK_TOKENS,
                  overlapTokens: p.config.CHUNK_OVERLAP_TOKENS,
                });
                await embedInBatches(
                  p.embedder,
                  pieces.map((c) => c.content),
                );
              }
            })
          ).ms,
        );
      }
      const rate = chunks / (endToEnd.ms / 1000);
      const computeRate = chunks / (median(computeRuns) / 1000);
      const per1000 = (calls: number) => (calls / chunks) * 1000;
      return {
        figures: [
          figure('ingest end to end (createSource → job worker → COMPLETED)', rate, 'chunks/s', {
            label: 'chunking + embedding alone, no database',
            value: computeRate,
          }),
          figure('embedding calls per 1,000 chunks, sources queued first', per1000(backlog.calls), 'calls', {
            label: 'the floor: ceil(chunks/128) per 1,000',
            value: per1000(floor),
          }),
          figure(
            'Bedrock Cohere Embed calls per 1,000 chunks, sources queued first',
            (cohere.calls / cohere.chunks) * 1000,
            'calls',
            { label: 'the floor: ceil(chunks/96) per 1,000', value: (cohere.floor / cohere.chunks) * 1000 },
          ),
          figure(
            'embedding calls per 1,000 chunks, sources arriving one by one',
            per1000(trickle.calls),
            'calls',
            {
              label: 'the floor: ceil(chunks/128) per 1,000',
              value: per1000(floor),
            },
          ),
        ],
        notes: [
          `${docs.length} generated markdown documents (${(docs.reduce((n, d) => n + d.length, 0) / 1e6).toFixed(2)} M chars; chunks per source: median ${sizes[Math.floor(sizes.length / 2)]}, max ${sizes.at(-1)}; every 25th document is long) → ${chunks} chunks (512 tokens, 64 overlap) in ${(endToEnd.ms / 1000).toFixed(1)} s through createSource and the local job worker (INGEST_CONCURRENCY ${p.config.INGEST_CONCURRENCY} groups of up to INGEST_GROUP_SIZE ${p.config.INGEST_GROUP_SIZE} sources), offline embedder, PGlite + pgvector (HNSW updated on every insert). Queued first, the same documents took ${(backlog.ms / 1000).toFixed(1)} s.`,
          `Embedding calls for ${chunks} chunks: ${backlog.calls} when every source was queued before the worker started (claims of ${p.config.INGEST_GROUP_SIZE} sources share requests of up to 128 chunks; the floor is ceil(${chunks}/128) = ${floor}), ${trickle.calls} when sources arrived one by one while the worker ran (a partial group waits up to INGEST_GROUP_WINDOW_MS ${p.config.INGEST_GROUP_WINDOW_MS} ms for more), and ${perSourceCalls} if every source were embedded on its own (Σ ceil(chunks/128)). In AWS an SQS batch is the group (ingestBatchSize 10, a 2 s batching window).`,
          `Cohere Embed on Bedrock (96 texts per request) through the Bedrock stand-in: ${cohere.calls} InvokeModel requests for ${cohere.chunks} chunks, floor ceil(${cohere.chunks}/96) = ${cohere.floor}.`,
          `Baseline: normalizeText + chunkText + embedInBatches on the same documents in-process (median of ${computeRuns.length}); the rest of the end-to-end time is PostgreSQL work in PGlite (source/chunk rows with tsvector + GIN, vectors + HNSW inserts, job claims and status updates).`,
        ],
        details: {
          documents: docs.length,
          chunks,
          endToEndMs: endToEnd.ms,
          backlogMs: backlog.ms,
          computeMs: computeRuns,
          counts,
          calls: { backlog: backlog.calls, trickle: trickle.calls, perSource: perSourceCalls, floor },
          cohere,
        },
      };
    } finally {
      await worker.stop();
      await embedded.dispose();
    }
  },
};
