/**
 * Deterministic generated text for the benches: the same seed always gives the same bytes, so runs
 * and machines compare like with like.
 */

import { seededRandom } from '#test/fixtures/seeded-random.ts';

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const between = (random: () => number, min: number, max: number) =>
  min + Math.floor(random() * (max - min + 1));

/** Topics: each a handful of domain words, so generated texts have something for retrieval to find. */
export const TOPICS: readonly (readonly string[])[] = [
  ['airfoil', 'lift', 'drag', 'boundary', 'layer', 'turbulence', 'wing', 'vortex', 'stall', 'camber'],
  ['invoice', 'payment', 'refund', 'ledger', 'currency', 'tax', 'billing', 'receipt', 'account', 'audit'],
  ['kernel', 'scheduler', 'thread', 'mutex', 'memory', 'page', 'cache', 'interrupt', 'syscall', 'latency'],
  ['protein', 'enzyme', 'cell', 'membrane', 'gene', 'mutation', 'receptor', 'pathway', 'antibody', 'assay'],
  ['harvest', 'soil', 'irrigation', 'wheat', 'fertilizer', 'drought', 'crop', 'seed', 'yield', 'orchard'],
  [
    'contract',
    'clause',
    'liability',
    'tenant',
    'lease',
    'arbitration',
    'warranty',
    'breach',
    'statute',
    'court',
  ],
  ['glacier', 'sediment', 'basalt', 'erosion', 'fault', 'magma', 'mineral', 'strata', 'quartz', 'tectonic'],
  ['recipe', 'saffron', 'braise', 'dough', 'ferment', 'garlic', 'simmer', 'roast', 'pastry', 'broth'],
  [
    'satellite',
    'orbit',
    'thruster',
    'payload',
    'telemetry',
    'antenna',
    'launch',
    'booster',
    'apogee',
    'docking',
  ],
  ['symphony', 'violin', 'tempo', 'chord', 'harmony', 'sonata', 'rhythm', 'melody', 'octave', 'cadence'],
  [
    'vaccine',
    'dosage',
    'clinical',
    'trial',
    'placebo',
    'cohort',
    'symptom',
    'therapy',
    'diagnosis',
    'patient',
  ],
  [
    'router',
    'packet',
    'firewall',
    'bandwidth',
    'socket',
    'protocol',
    'handshake',
    'gateway',
    'subnet',
    'proxy',
  ],
];

const COMMON = (
  'the of and to in is that for it as with was on be by this are from at which an have has not but were ' +
  'results method system analysis data model value process design study effect case shows under between'
).split(' ');

const UNICODE = [
  'naïve',
  'café',
  'Zürich',
  'São Paulo',
  'Ελληνικά',
  'русский',
  '日本語のテキスト',
  '中文字符',
  '한국어',
  'emoji 🚀✨',
  'ß',
  'résumé',
  '±5 %',
  '→',
  '“quoted”',
];

function sentence(random: () => number, topic: readonly string[]): string {
  const words: string[] = [];
  const length = between(random, 8, 24);
  for (let i = 0; i < length; i++) {
    const roll = random();
    words.push(
      roll < 0.35 ? pick(random, topic) : roll < 0.97 ? pick(random, COMMON) : pick(random, UNICODE),
    );
  }
  const text = words.join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${pick(random, ['.', '.', '.', '?', '!', ';'])}`;
}

/** A paragraph of 3–12 sentences about one topic. */
export function paragraph(random: () => number, topic: readonly string[]): string {
  const sentences: string[] = [];
  for (let i = between(random, 3, 12); i > 0; i--) sentences.push(sentence(random, topic));
  return sentences.join(' ');
}

function codeBlock(random: () => number, topic: readonly string[]): string {
  const lines = [`\`\`\`${pick(random, ['ts', 'python', 'sql', 'bash'])}`];
  for (let i = between(random, 3, 15); i > 0; i--) {
    const name = pick(random, topic);
    lines.push(
      pick(random, [
        `const ${name}Total = items.reduce((sum, item) => sum + item.${name}, 0);`,
        `def compute_${name}(x, y):\n    return x * ${between(random, 2, 99)} + y`,
        `select ${name}, count(*) from records where ${name} > ${between(random, 1, 1000)} group by 1;`,
        `  if (${name} >= threshold) { log.info("${name} over limit", { ${name} }); }`,
        `curl -s https://example.test/api/${name}?limit=${between(random, 1, 100)} | jq '.data[]'`,
      ]),
    );
  }
  lines.push('```');
  return lines.join('\n');
}

/** One markdown document: headings, long paragraphs, lists, code blocks and some non-ASCII text. */
export function markdownDocument(random: () => number, topic: readonly string[], sections: number): string {
  const parts = [`# ${pick(random, topic)} ${pick(random, topic)} handbook`];
  for (let s = 0; s < sections; s++) {
    parts.push(`## ${pick(random, topic)} and ${pick(random, topic)}`);
    for (let p = between(random, 1, 4); p > 0; p--) {
      const roll = random();
      if (roll < 0.15) parts.push(codeBlock(random, topic));
      else if (roll < 0.25) {
        const items: string[] = [];
        for (let i = between(random, 2, 6); i > 0; i--) items.push(`- ${sentence(random, topic)}`);
        parts.push(items.join('\n'));
      } else parts.push(paragraph(random, topic));
    }
  }
  return parts.join('\n\n');
}

/** A markdown corpus of at least `bytes` UTF-8 bytes (documents joined by blank lines). */
export function markdownCorpus(bytes: number, seed = 42): string {
  const random = seededRandom(seed);
  const docs: string[] = [];
  let size = 0;
  while (size < bytes) {
    const doc = markdownDocument(random, pick(random, TOPICS), between(random, 2, 12));
    docs.push(doc);
    size += Buffer.byteLength(doc, 'utf8') + 2;
  }
  return docs.join('\n\n');
}

/** A short passage (≈ one chunk) about one topic, for vector and full-text benches. */
export function passage(random: () => number, topic: readonly string[]): string {
  return `${paragraph(random, topic)} ${paragraph(random, topic)}`;
}

/** A query about `text`: a few of its topic words, as someone would type them. */
export function queryFor(random: () => number, text: string, topic: readonly string[]): string {
  const present = topic.filter((word) => text.includes(word));
  const words = new Set<string>();
  for (let i = between(random, 2, 4); i > 0 && present.length > 0; i--) words.add(pick(random, present));
  return `what about ${[...words].join(' ')}`;
}
