/**
 * RM3 pseudo-relevance feedback (Lavrenko & Croft's relevance model, interpolated with the question as
 * Abdul-Jaleel et al. 2004 do, with the parameters Anserini ships as its defaults): the top lexical hits
 * are taken as relevant, the words they share become extra query terms, and the expanded query is searched
 * again. It helps when relevant texts use words the question does not; it hurts when the first hits are
 * off topic, which is why the product keeps it only if cross-validation says it helps.
 */

export interface FeedbackSettings {
  /** How many top hits are read as relevant. */
  readonly docs: number;
  /** How many expansion terms the relevance model keeps. */
  readonly terms: number;
  /** λ: the original question's share of the final query weights (the model's is 1 − λ). */
  readonly originalWeight: number;
}

/** Anserini's RM3 defaults (fbDocs 10, fbTerms 10, originalQueryWeight 0.5). */
export const RM3_DEFAULTS: FeedbackSettings = { docs: 10, terms: 10, originalWeight: 0.5 };

/** Lexemes fit to be expansion terms: a word (a letter in it), not a number or a single character. */
const EXPANDABLE = /\p{L}/u;

/**
 * The expanded query: λ × the question's terms (each 1/|Q|) + (1 − λ) × the relevance model's top terms,
 * where the model is Σ over feedback hits of (hit score × the term's share of the hit's words), cut to
 * `settings.terms` terms and rescaled to sum to 1. Feedback hits are given best first with their scores.
 */
export function expandQuery(
  question: ReadonlyMap<string, number>,
  feedback: readonly { readonly score: number; readonly terms: ReadonlyMap<string, number> }[],
  settings: FeedbackSettings,
): Map<string, number> {
  const model = new Map<string, number>();
  for (const hit of feedback.slice(0, settings.docs)) {
    let length = 0;
    for (const tf of hit.terms.values()) length += tf;
    if (length <= 0 || !(hit.score > 0)) continue;
    for (const [term, tf] of hit.terms) {
      if (term.length < 2 || !EXPANDABLE.test(term)) continue;
      model.set(term, (model.get(term) ?? 0) + (hit.score * tf) / length);
    }
  }
  const kept = [...model.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, settings.terms);
  const modelTotal = kept.reduce((sum, [, w]) => sum + w, 0);
  let questionTotal = 0;
  for (const w of question.values()) questionTotal += w;
  const lambda = settings.originalWeight;
  const expanded = new Map<string, number>();
  if (questionTotal > 0) for (const [term, w] of question) expanded.set(term, (lambda * w) / questionTotal);
  if (modelTotal > 0)
    for (const [term, w] of kept)
      expanded.set(term, (expanded.get(term) ?? 0) + ((1 - lambda) * w) / modelTotal);
  return expanded;
}
