// Usage: tokens per day as inline SVG bars (GET /v1/usage?group_by=day), with a table for screen readers.
import { api } from './api.js';
import { $, h, loadError, render, svg } from './dom.js';

const DAYS = 30;

/** Shows the last 30 days' usage (or why it could not be loaded); true when it was. */
export async function loadUsage() {
  let usage;
  try {
    usage = await api.get('/v1/usage', { group_by: 'day' });
  } catch (error) {
    render($('#usage-chart'));
    render($('#usage-summary'), loadError('The usage', error, loadUsage));
    return false;
  }
  const byDay = new Map();
  for (const row of usage.data) {
    const day = byDay.get(row.key) ?? { tokens: 0, events: 0, cost: 0 };
    day.tokens += row.input_tokens + row.output_tokens;
    day.events += row.events;
    day.cost += row.cost_usd;
    byDay.set(row.key, day);
  }
  const end = new Date(usage.to);
  const days = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const key = new Date(end.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    days.push({ key, ...(byDay.get(key) ?? { tokens: 0, events: 0, cost: 0 }) });
  }
  const total = days.reduce(
    (t, d) => ({ tokens: t.tokens + d.tokens, events: t.events + d.events, cost: t.cost + d.cost }),
    { tokens: 0, events: 0, cost: 0 },
  );
  if (total.events === 0) {
    render($('#usage-chart'));
    render(
      $('#usage-summary'),
      h(
        'p',
        { class: 'empty' },
        'No usage yet. Tokens are counted here when sources are ingested and questions are answered.',
      ),
    );
    return true;
  }
  render($('#usage-chart'), chart(days));
  render(
    $('#usage-summary'),
    h(
      'p',
      {},
      `${total.tokens.toLocaleString()} tokens in ${total.events} events · $${total.cost.toFixed(4)}`,
    ),
    h(
      'details',
      {},
      h('summary', {}, 'Show as a table'),
      h(
        'table',
        { class: 'usage-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Day'),
            h('th', { scope: 'col' }, 'Tokens'),
            h('th', { scope: 'col' }, 'Events'),
            h('th', { scope: 'col' }, 'Cost (USD)'),
          ),
        ),
        h(
          'tbody',
          {},
          days
            .filter((d) => d.events > 0)
            .map((d) =>
              h(
                'tr',
                {},
                h('td', {}, d.key),
                h('td', { class: 'num' }, d.tokens),
                h('td', { class: 'num' }, d.events),
                h('td', { class: 'num' }, d.cost.toFixed(4)),
              ),
            ),
        ),
      ),
    ),
  );
  return true;
}

function chart(days) {
  const width = 720;
  const height = 220;
  const pad = { top: 16, right: 8, bottom: 28, left: 56 };
  const max = Math.max(1, ...days.map((d) => d.tokens));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / days.length;
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const bars = days.map((d, i) => {
    const barH = Math.max(d.tokens > 0 ? 2 : 0, (d.tokens / max) * plotH);
    return svg(
      'rect',
      {
        x: pad.left + i * slot + slot * 0.15,
        y: pad.top + plotH - barH,
        width: slot * 0.7,
        height: barH,
        class: 'bar',
        rx: 2,
      },
      svg('title', {}, `${d.key}: ${d.tokens.toLocaleString()} tokens, ${d.events} events`),
    );
  });
  const ticks = [0, 0.5, 1].map((f) =>
    svg(
      'g',
      {},
      svg('line', { x1: pad.left, x2: width - pad.right, y1: y(max * f), y2: y(max * f), class: 'grid' }),
      svg(
        'text',
        { x: pad.left - 6, y: y(max * f) + 4, 'text-anchor': 'end', class: 'axis' },
        Math.round(max * f).toLocaleString(),
      ),
    ),
  );
  const labels = days
    .map((d, i) => ({ d, i }))
    .filter(({ i }) => i % 5 === 4 || i === 0)
    .map(({ d, i }) =>
      svg(
        'text',
        { x: pad.left + i * slot + slot / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' },
        d.key.slice(5),
      ),
    );
  return svg(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `Tokens per day over the last ${DAYS} days; peak ${max.toLocaleString()}`,
    },
    ...ticks,
    ...bars,
    ...labels,
  );
}
