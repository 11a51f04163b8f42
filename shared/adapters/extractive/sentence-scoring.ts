/**
 * Terms for the extractive answerer's overlap scoring: lower-cased words (any script), crude English
 * suffix stripping so "refunds" meets "refund", and no stop words, which would match every sentence.
 */
const STOP_WORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my no not of on or our so than that the their them then there these they this those to was we were ' +
    'what when where which who whom why will with would you your about after before over under can any all'
  ).split(' '),
);

export function questionTerms(question: string): Set<string> {
  return new Set(
    words(question)
      .filter((w) => !STOP_WORDS.has(w) && w.length > 1)
      .map(stem),
  );
}

export function sentenceTerms(sentence: string): Set<string> {
  return new Set(words(sentence).map(stem));
}

/** The wanted terms the sentence contains, each once. */
export function matchedTerms(wanted: ReadonlySet<string>, terms: ReadonlySet<string>): string[] {
  return [...wanted].filter((term) => terms.has(term));
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function stem(word: string): string {
  if (word.length <= 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ing') && word.length > 5) return word.slice(0, -3);
  if (word.endsWith('ed') && word.length > 4) return word.slice(0, -2);
  if (word.endsWith('es') && /(?:ss|x|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}
