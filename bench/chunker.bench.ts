import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { chunkText } from '#shared/rag/chunking/index.ts';
import { countTokens } from '#shared/rag/tokenizer.ts';
import { markdownCorpus } from './lib/corpus.ts';
import { type Bench, figure } from './lib/report.ts';
import { median, repeat } from './lib/stats.ts';

const MB = 1_000_000;
const CORPUS_BYTES = 10 * MB;

const mbPerSecond = (bytes: number, ms: number) => bytes / MB / (ms / 1000);

export const chunkerBench: Bench = {
  name: 'chunker',
  async run(ctx) {
    const runs = ctx.quick ? 3 : 5;
    const corpus = markdownCorpus(CORPUS_BYTES);
    const bytes = Buffer.byteLength(corpus, 'utf8');
    ctx.log(`corpus ${(bytes / MB).toFixed(1)} MB, ${runs} runs each`);

    let chunkCount = 0;
    const chunkTimes = await repeat(runs, () => {
      chunkCount = chunkText(corpus, { maxTokens: 512, overlapTokens: 64 }).length;
    });
    let tokens = 0;
    const countTimes = await repeat(runs, () => {
      tokens = countTokens(corpus);
    });
    const chunker = mbPerSecond(bytes, median(chunkTimes));
    const tokenizer = mbPerSecond(bytes, median(countTimes));

    const splitter = new RecursiveCharacterTextSplitter({
      chunkSize: 512,
      chunkOverlap: 64,
      lengthFunction: countTokens,
    });
    let langchainChunks: string[] = [];
    const langchainTimes = await repeat(ctx.quick ? 1 : 3, async () => {
      langchainChunks = await splitter.splitText(corpus);
    });
    const langchain = mbPerSecond(bytes, median(langchainTimes));

    return {
      figures: [
        figure(
          `chunkText throughput, ${(bytes / MB).toFixed(1)} MB corpus`,
          chunker,
          'MB/s',
          { label: 'LangChain RecursiveCharacterTextSplitter, same text', value: langchain },
          { text: '≥ 5× LangChain', met: (_v, ratio) => ratio >= 5 },
        ),
        figure(
          `chunkText throughput, ${(bytes / MB).toFixed(1)} MB corpus`,
          chunker,
          'MB/s',
          { label: 'one countTokens pass over the same text', value: tokenizer },
          { text: 'within 2× of one tokenizer pass (ratio ≥ 0.5)', met: (_v, ratio) => ratio >= 0.5 },
        ),
      ],
      notes: [
        `Deterministic generated markdown (headings, long paragraphs, lists, code blocks, non-Latin scripts and emoji), ${bytes} bytes; MB = 10^6 bytes; median of ${runs} runs (LangChain: ${langchainTimes.length}) after one warm-up run each, so every contender sees a warm tokenizer cache.`,
        `chunkText(512 tokens, 64 overlap) made ${chunkCount} chunks; countTokens saw ${tokens} cl100k_base tokens; LangChain (chunkSize 512, chunkOverlap 64, lengthFunction = the same countTokens, default separators) made ${langchainChunks.length} chunks over the whole corpus (it was fast enough not to need a smaller slice). The counts differ because the two choose cut points and overlaps differently.`,
      ],
      details: {
        corpusBytes: bytes,
        chunkMs: chunkTimes,
        countTokensMs: countTimes,
        langchainMs: langchainTimes,
        chunks: { chunkText: chunkCount, langchain: langchainChunks.length },
      },
    };
  },
};
