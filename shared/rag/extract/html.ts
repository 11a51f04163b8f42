import { Readability } from '@mozilla/readability';
import { convert, type FormatCallback, type HtmlToTextOptions } from 'html-to-text';
import { parseHTML } from 'linkedom';
import { checkHtmlDepth } from './html-depth.ts';
import type { ExtractLimits } from './limits.ts';

/** Headings become Markdown headings, so the chunker can cut a page at its sections. */
const markdownHeading: FormatCallback = (element, walk, builder, formatOptions) => {
  const level = Number(element.name?.slice(1)) || 1;
  builder.openBlock({ leadingLineBreaks: formatOptions.leadingLineBreaks ?? 2 });
  builder.addLiteral(`${'#'.repeat(level)} `);
  walk(element.children ?? [], builder);
  builder.closeBlock({ trailingLineBreaks: formatOptions.trailingLineBreaks ?? 2 });
};

const headingSelectors = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
  selector,
  format: 'markdownHeading',
}));

const toText: HtmlToTextOptions = {
  wordwrap: false,
  formatters: { markdownHeading },
  selectors: [
    ...headingSelectors,
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'noscript', format: 'skip' },
    { selector: 'template', format: 'skip' },
    { selector: 'svg', format: 'skip' },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};

/** Readability's article, or undefined when it finds none (short or unusual pages). */
function readableArticle(html: string): { title: string; content: string } | undefined {
  const { document } = parseHTML(html);
  // linkedom implements the DOM subset Readability uses; its types are its own.
  const article = new Readability(document as unknown as Document).parse();
  if (!article?.content || !article.textContent?.trim()) return undefined;
  return { title: article.title?.trim() ?? '', content: article.content };
}

/**
 * The readable text of a web page: Readability's article (without navigation, ads and
 * footers) when it finds one, else the whole page converted to text. The page title leads as
 * a heading unless the article already starts with it.
 */
export function extractHtmlText(html: string, limits: Pick<ExtractLimits, 'maxHtmlDepth'>): string {
  checkHtmlDepth(html, limits.maxHtmlDepth);
  let article: ReturnType<typeof readableArticle>;
  try {
    article = readableArticle(html);
  } catch {
    // Readability gives up on some malformed documents; the plain conversion never does.
    article = undefined;
  }
  if (!article) return convert(html, toText);
  const text = convert(article.content, toText).trim();
  if (!article.title || text.replace(/^#+ /, '').startsWith(article.title)) return text;
  return `# ${article.title}\n\n${text}`;
}
