// "Why this answer?": an answer's trace (rewrite, ranked candidates, context, stage timings) and its rating.
import { api } from './api.js';
import { announce, h, render } from './dom.js';

const fmt = (r, digits) => (r ? `${r.rank} · ${r.score.toFixed(digits)}` : '–');

const STAGE_NAMES = {
  auth: 'Sign-in check',
  load: 'Loading code',
  history: 'Chat & history',
  quota: 'Quota',
  credentials: 'Bot key',
  model: 'Provider client',
  rewrite: 'Query rewrite',
  embed: 'Embed query',
  dense: 'Vector search',
  lexical: 'Full-text search',
  fusion: 'Fusion',
  rerank: 'Rerank',
  assembly: 'Context assembly',
  first_token: 'First token',
  generation: 'Generation',
  save: 'Save',
};

const DROPPED = {
  threshold: 'below threshold',
  rank: 'ranked too low',
  stale: 'no longer current',
  budget: 'over token budget',
};

/** A bar from `start` to `start + width` (percent). Set through CSSOM: the CSP refuses style attributes. */
function bar(stage, start, width) {
  const el = h('span', { class: `timing-bar stage-${stage}` });
  el.style.left = `${start.toFixed(2)}%`;
  el.style.width = `${width.toFixed(2)}%`;
  return el;
}

/** The stage timing bar: one row per stage, drawn where it started and as long as it took. */
function timingBars(trace) {
  const total = Math.max(trace.total_ms, 0.001);
  return h(
    'div',
    {
      class: 'timing',
      role: 'list',
      'aria-label': `Stage timings, ${Math.round(trace.total_ms)} ms in total`,
    },
    trace.timings.map((t) =>
      h(
        'div',
        { class: 'timing-row', role: 'listitem' },
        h('span', { class: 'timing-name' }, STAGE_NAMES[t.stage] ?? t.stage),
        h(
          'span',
          { class: 'timing-track' },
          bar(t.stage, (100 * t.start_ms) / total, Math.max(0.4, (100 * t.ms) / total)),
        ),
        h('span', { class: 'timing-ms' }, t.ms < 10 ? `${t.ms.toFixed(1)} ms` : `${Math.round(t.ms)} ms`),
      ),
    ),
    h(
      'div',
      { class: 'timing-row timing-total' },
      h('span', { class: 'timing-name' }, 'Total'),
      h('span', { class: 'timing-track' }),
      h('span', { class: 'timing-ms' }, `${Math.round(trace.total_ms)} ms`),
    ),
  );
}

function candidatesTable(trace) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'trace-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Fused'),
          h('th', { scope: 'col' }, 'Full text'),
          h('th', { scope: 'col' }, 'Vector'),
          h('th', { scope: 'col' }, 'In context'),
          h('th', { scope: 'col' }, 'Chunk'),
        ),
      ),
      h(
        'tbody',
        {},
        trace.candidates.map((c) =>
          h(
            'tr',
            { class: c.kept ? 'kept' : 'dropped' },
            h('td', { class: 'num' }, fmt(c.fused, 4)),
            h('td', { class: 'num' }, fmt(c.lexical, 2)),
            h('td', { class: 'num' }, fmt(c.dense, 3)),
            h(
              'td',
              {},
              c.kept
                ? h('strong', {}, `[${c.passage}]`)
                : h('span', { class: 'muted' }, DROPPED[c.dropped] ?? c.dropped),
            ),
            h(
              'td',
              { class: 'chunk' },
              h('span', { class: 'chunk-title' }, c.title ?? c.chunk_id.slice(0, 8)),
              c.snippet ? h('span', { class: 'muted' }, ` ${c.snippet}`) : '',
            ),
          ),
        ),
      ),
    ),
  );
}

function traceView(trace) {
  const s = trace.settings;
  const rewrite =
    trace.rewrite.status === 'rewritten'
      ? ['Searched for ', h('q', {}, trace.rewrite.query), ' (rewritten from the conversation)']
      : [`Searched for the question as asked (rewrite ${trace.rewrite.status})`];
  return [
    h('p', { class: 'trace-query' }, ...rewrite),
    h(
      'p',
      { class: 'muted trace-settings' },
      `${s.provider}/${s.model} · top ${s.top_k}` +
        (s.score_threshold !== null ? ` · threshold ${s.score_threshold}` : '') +
        (s.tags.length ? ` · tags ${s.tags.join(', ')}` : '') +
        ` · ${trace.context.passages.length} passages, ${trace.context.tokens} tokens in context`,
    ),
    trace.citations.unknown.length
      ? h(
          'p',
          { class: 'warn' },
          `Cited sources that were not in the context: ${trace.citations.unknown.map((n) => `[${n}]`).join(' ')} (left out of the sources)`,
        )
      : '',
    h('h4', {}, 'Candidates'),
    candidatesTable(trace),
    h('h4', {}, 'Where the time went'),
    timingBars(trace),
  ];
}

/** The actions under an answer: the "Why this answer?" toggle and thumbs up / down. */
export function answerActions(chatId, messageId) {
  const panel = h('div', { class: 'trace-panel', hidden: true, id: `trace-${messageId}` });
  let loaded = false;
  const why = h(
    'button',
    {
      type: 'button',
      class: 'link why',
      'aria-expanded': 'false',
      'aria-controls': panel.id,
      onclick: async () => {
        const open = why.getAttribute('aria-expanded') !== 'true';
        why.setAttribute('aria-expanded', String(open));
        panel.hidden = !open;
        if (!open || loaded) return;
        render(panel, h('p', { class: 'muted' }, 'Loading…'));
        try {
          const trace = await api.get(`/v1/chats/${chatId}/messages/${messageId}/trace`);
          loaded = true;
          render(panel, ...traceView(trace));
        } catch (error) {
          render(panel, h('p', { class: 'error' }, error.message));
        }
      },
    },
    'Why this answer?',
  );
  const thumbs = ['up', 'down'].map((rating) =>
    h(
      'button',
      {
        type: 'button',
        class: `thumb thumb-${rating}`,
        'aria-pressed': 'false',
        'aria-label': rating === 'up' ? 'Good answer' : 'Bad answer',
        onclick: async () => {
          try {
            await api.post(`/v1/chats/${chatId}/messages/${messageId}/feedback`, { rating });
            for (const t of thumbs)
              t.setAttribute('aria-pressed', String(t === thumbs[rating === 'up' ? 0 : 1]));
            announce('Thanks for the feedback.');
          } catch (error) {
            announce(error.message, 'error');
          }
        },
      },
      // Words as well as the glyph: a system without an emoji font still shows what the button does.
      rating === 'up' ? '👍 Good' : '👎 Bad',
    ),
  );
  return [h('div', { class: 'msg-actions' }, why, ...thumbs), panel];
}
