/**
 * The words the offline embedder hashes: lower-cased letter/digit runs, English stop words
 * dropped, and a light suffix-stripping stemmer so that "embedding", "embedded" and "embeds"
 * meet. Deliberately small: it only has to make lexical overlap visible.
 */

const stopWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can could did do does doing down during each few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on ' +
    'once only or other our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why will with would you your yours yourself yourselves'
  ).split(' '),
);

const wordPattern = /[\p{L}\p{N}]+/gu;

/** Strips one common English inflection; words of four letters or fewer are left alone. */
export function stem(word: string): string {
  const length = word.length;
  if (length <= 4) return word;
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && length > 5) return word.slice(0, -3);
  if (word.endsWith('ed') && length > 4) return word.slice(0, -2);
  if (word.endsWith('ly') && length > 5) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) {
    return word.slice(0, -1);
  }
  return word;
}

/** Content words of a text, in order, lower-cased but not stemmed. */
export function contentWords(text: string): string[] {
  const words: string[] = [];
  for (const match of text.toLowerCase().matchAll(wordPattern)) {
    const word = match[0];
    if (!stopWords.has(word)) words.push(word);
  }
  return words;
}
