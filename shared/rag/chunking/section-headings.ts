/**
 * The Markdown heading each chunk starts under. Extracted HTML and Markdown sources keep their headings as
 * `#`…`######` lines; the section a chunk starts in names what the chunk is about even when the heading
 * line itself fell into an earlier chunk, so full-text search can weigh it as part of the chunk's title.
 */

const HEADING_LINE = /^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$/gm;

/** Headings longer than this are body text with a `#` in front, not a section name. */
const MAX_HEADING_LENGTH = 200;

/**
 * For each start offset (ascending or not), the text of the last heading line that starts at or before it,
 * or '' when none does.
 */
export function sectionHeadingsAt(text: string, starts: readonly number[]): string[] {
  const headings: { at: number; text: string }[] = [];
  for (const match of text.matchAll(HEADING_LINE)) {
    const heading = match[1]!.trim();
    if (heading && heading.length <= MAX_HEADING_LENGTH) headings.push({ at: match.index, text: heading });
  }
  return starts.map((start) => {
    let lo = 0;
    let hi = headings.length;
    // The number of headings starting at or before `start`.
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (headings[mid]!.at <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? '' : headings[lo - 1]!.text;
  });
}
