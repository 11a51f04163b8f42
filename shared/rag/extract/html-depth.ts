import { Parser } from 'htmlparser2';
import { DocumentLimitError } from '../../domain/errors.ts';

/**
 * Refuses HTML nested deeper than `maxDepth` elements, in one linear pass of the tokenizer linkedom itself
 * uses (so the depth is the one its DOM would have), before anything builds or walks a tree: Readability
 * slows superlinearly with depth and it and html-to-text recurse once per level, so 2,000 nested divs took
 * 45 s and 200,000 overflowed the stack.
 */
export function checkHtmlDepth(html: string, maxDepth: number): void {
  let depth = 0;
  let tooDeep = false;
  const parser = new Parser({
    onopentag() {
      depth++;
      if (depth > maxDepth && !tooDeep) {
        tooDeep = true;
        parser.pause();
      }
    },
    onclosetag() {
      depth--;
    },
  });
  parser.end(html);
  if (tooDeep) {
    throw new DocumentLimitError(
      `The page nests elements more than ${maxDepth} levels deep, more than MiniRAG reads.`,
    );
  }
}
