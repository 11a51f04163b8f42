import { describe, expect, it } from 'vitest';
import { sectionHeadingsAt } from '#shared/rag/chunking/index.ts';
import { expandQuery, RM3_DEFAULTS } from '#shared/usecases/answering/query-expansion.ts';

const terms = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('RM3 query expansion', () => {
  it('when two hits share a word, then it joins the question with (1 − λ) of the weight, split by hit score × share', () => {
    const expanded = expandQuery(
      terms({ shock: 1 }),
      [
        { score: 3, terms: terms({ shock: 1, obliqu: 3 }) },
        { score: 1, terms: terms({ obliqu: 1, ramp: 1 }) },
      ],
      { docs: 10, terms: 10, originalWeight: 0.5 },
    );
    // Model: shock 3 × 1/4 = 0.75; obliqu 3 × 3/4 + 1 × 1/2 = 2.75; ramp 1 × 1/2 = 0.5; total 4.
    expect(expanded.get('shock')).toBeCloseTo(0.5 + 0.5 * (0.75 / 4));
    expect(expanded.get('obliqu')).toBeCloseTo(0.5 * (2.75 / 4));
    expect(expanded.get('ramp')).toBeCloseTo(0.5 * (0.5 / 4));
    expect([...expanded.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1);
  });

  it('when the model has more terms than kept, then only the heaviest stay, and numbers never join', () => {
    const expanded = expandQuery(
      terms({ wing: 1 }),
      [{ score: 1, terms: terms({ '1960': 9, a: 9, sweep: 4, span: 2, chord: 1 }) }],
      { docs: 10, terms: 2, originalWeight: 0.5 },
    );
    expect([...expanded.keys()].sort()).toEqual(['span', 'sweep', 'wing']);
  });

  it('when only the first hits count, then later ones add nothing; with no usable hit the question stands alone', () => {
    const hits = [
      { score: 2, terms: terms({ lift: 1 }) },
      { score: 1, terms: terms({ drag: 1 }) },
    ];
    expect(expandQuery(terms({ wing: 1 }), hits, { ...RM3_DEFAULTS, docs: 1 }).has('drag')).toBe(false);
    expect(expandQuery(terms({ wing: 1, flap: 1 }), [], RM3_DEFAULTS)).toEqual(
      terms({ wing: 0.25, flap: 0.25 }),
    );
  });
});

describe('section headings', () => {
  const text = [
    '# Guide',
    'intro text',
    '',
    '## Install',
    'run it',
    '### Linux',
    'apt',
    '#hashtag line',
  ].join('\n');
  const at = (s: string) => text.indexOf(s);

  it('when a chunk starts after headings, then it gets the last one before its start (or on it)', () => {
    expect(sectionHeadingsAt(text, [0, at('intro'), at('## Install'), at('run it'), at('apt')])).toEqual([
      'Guide',
      'Guide',
      'Install',
      'Install',
      'Linux',
    ]);
  });

  it('when there is no heading line before a chunk, then its heading is empty; "#word" is not a heading', () => {
    expect(sectionHeadingsAt('plain text\n#hashtag\nmore', [0, 12])).toEqual(['', '']);
    expect(sectionHeadingsAt('## Closed ##\nbody', [13])).toEqual(['Closed']);
  });
});
