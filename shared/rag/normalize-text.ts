/**
 * Text normalisation applied to every extracted document before chunking: spaces around line
 * breaks go, plus the cleaning PostgreSQL and the tokenizer need. Paragraph breaks survive: the
 * chunker splits on them.
 */

// C0 controls except \t and \n (\r is handled first), DEL, C1 controls, and the BOM.
// PostgreSQL text cannot hold NUL at all; the rest only add noise to embeddings.
const controlCharacters = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\uFEFF]/g;
// A lone surrogate is not valid UTF-8, so neither PostgreSQL nor a provider's JSON would take it.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function normalizeText(text: string): string {
  return text
    .replace(loneSurrogate, '\uFFFD')
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(controlCharacters, '')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
