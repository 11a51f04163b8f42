/**
 * How the extractive answerer's relevance floor was chosen (not part of `npm run bench`):
 *
 *   node bin/node22.mjs npx tsx bench/extractive-floor.ts [--dataset <BEIR dir>] [--json <file>]
 *
 * Ingests the collection (Cranfield by default) into a throw-away embedded platform, retrieves as a bot
 * does (hybrid, top 6, the default context budget) for every dev query and for questions the corpus
 * cannot answer, and prints the best passage's relevance (relevanceScorer) for each group, and how many of
 * each a floor would keep. The same for MiniRAG's own demo documents (a small knowledge base with long
 * passages) and questions about them.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quotableSentences } from '#shared/adapters/extractive/quotable-sentences.ts';
import { RELEVANCE_FLOOR, relevanceScorer } from '#shared/adapters/extractive/relevance.ts';
import { type BeirDocument, loadBeirDataset } from '#shared/eval/beir-dataset.ts';
import { ingestCorpus } from '#shared/eval/ingest-corpus.ts';
import { assembleContext } from '#shared/usecases/answering/assemble-context.ts';
import { retrieveContext } from '#shared/usecases/answering/retrieve-context.ts';
import { createLocalServer } from '../cli/server/local-server.ts';
import { createBenchTenant, startEmbeddedPlatform } from './lib/embedded.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Questions nobody would expect an aeronautics collection (or MiniRAG's docs) to answer. */
export const OFF_TOPIC = [
  'What is the capital of France?',
  'Who won the 2018 World Cup?',
  'How do I bake sourdough bread?',
  'What is the price of a Netflix subscription?',
  'Who wrote Pride and Prejudice?',
  'How many calories are in a banana?',
  'When was the Eiffel Tower built?',
  'Who is the president of the United States?',
  'What is the weather like in London today?',
  'What time does the store open on Sunday?',
];

const DEMO_QUESTIONS = [
  'How does MiniRAG keep tenants apart?',
  'How are documents ingested?',
  'Which vector stores are supported?',
  'How do I deploy to AWS?',
  'What does the chat stream send?',
];

const { values } = parseArgs({
  options: {
    dataset: { type: 'string', default: resolve(ROOT, '../shared/data/cranfield') },
    json: { type: 'string' },
  },
});

const { platform, dispose } = await startEmbeddedPlatform();
const { worker } = createLocalServer(platform);
worker.start();
const deps = { ...platform, embeddingSpace: platform.embedder.space, waitForIngest: () => worker.idle() };

/** Ingests a corpus into a new tenant; then the best passage's relevance per question, retrieving as a bot does. */
async function knowledgeBase(corpus: BeirDocument[], label: string) {
  const tenant = await createBenchTenant(platform, label);
  await ingestCorpus(tenant.auth, corpus, deps);
  return async (questions: readonly string[]) => {
    const scores: number[] = [];
    for (const question of questions) {
      const { chunks } = await retrieveContext(tenant.auth.tenantId, question, { topK: 6 }, platform);
      const { passages } = assembleContext(chunks, 4000);
      const score = relevanceScorer(question);
      scores.push(Math.max(-1, ...passages.map((p) => score(quotableSentences(p.content)))));
    }
    return scores;
  };
}

const dataset = await loadBeirDataset(values.dataset);
const demoDir = join(ROOT, 'docs/demo');
const demoCorpus = await Promise.all(
  (await readdir(demoDir)).map(async (file) => ({
    id: file,
    title: '',
    text: await readFile(join(demoDir, file), 'utf8'),
  })),
);
try {
  const cranfield = await knowledgeBase(dataset.corpus, 'floor');
  const demo = await knowledgeBase(demoCorpus, 'floor-demo');
  const groups = {
    [`${dataset.name} dev queries`]: await cranfield(dataset.queries.map((q) => q.text)),
    [`off-topic on ${dataset.name}`]: await cranfield(OFF_TOPIC),
    'demo docs questions': await demo(DEMO_QUESTIONS),
    'off-topic on demo docs': await demo(OFF_TOPIC),
  };
  const quantile = (sorted: number[], p: number) => sorted[Math.floor(p * (sorted.length - 1))] ?? Number.NaN;
  const f = (x: number) => x.toFixed(3);
  for (const [name, scores] of Object.entries(groups)) {
    const sorted = [...scores].sort((a, b) => a - b);
    const kept = scores.filter((s) => s >= RELEVANCE_FLOOR).length;
    process.stdout.write(
      `${name.padEnd(28)} n=${String(scores.length).padStart(3)}  min ${f(sorted[0] ?? Number.NaN)}  p5 ${f(quantile(sorted, 0.05))}  p10 ${f(quantile(sorted, 0.1))}  median ${f(quantile(sorted, 0.5))}  max ${f(sorted.at(-1) ?? Number.NaN)}  ≥ floor ${RELEVANCE_FLOOR}: ${kept}/${scores.length}\n`,
    );
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(groups, null, 2)}\n`);
} finally {
  await worker.stop(1_000);
  await dispose();
}
