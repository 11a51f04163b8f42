// The bot view's "Put this bot on a website": publishable keys, the embed snippet and a live preview.
import { api } from './api.js';
import { $, announce, formatDate, h, render } from './dom.js';

let botId = '';

export function initEmbed() {
  $('#embed-form').addEventListener('submit', createKey);
  $('#embed-copy').addEventListener('click', copySnippet);
  $('#embed-preview').addEventListener('click', preview);
}

/** Shows the card for a saved bot (hidden while a new one is being written). */
export async function showEmbed(bot) {
  botId = bot?.id ?? '';
  $('#embed').hidden = !botId;
  $('#embed-result').hidden = true;
  if (!botId) return;
  // The playground's own origin is listed too, so the live preview works right away.
  if (!$('#embed-origins').value) $('#embed-origins').value = location.origin;
  await listKeys();
}

async function listKeys() {
  const { data } = await api.get(`/v1/bots/${botId}/publishable-keys`, { limit: 100 });
  render(
    $('#embed-keys'),
    data.length === 0
      ? h('li', { class: 'empty' }, 'No keys yet.')
      : data.map((k) =>
          h(
            'li',
            {},
            h('span', {}, `${k.prefix} — ${k.allowed_origins.join(', ')}`),
            h('span', { class: 'muted' }, k.revoked_at ? ` revoked ${formatDate(k.revoked_at)}` : ''),
            k.revoked_at
              ? null
              : h('button', { type: 'button', class: 'link', onclick: () => revoke(k) }, 'Revoke'),
          ),
        ),
  );
}

const snippetFor = (key) =>
  `<script src="${location.origin}/widget.js" data-key="${key}" data-api="${location.origin}" defer></script>`;

async function createKey(event) {
  event.preventDefault();
  const origins = $('#embed-origins')
    .value.split(/[\s,]+/)
    .map((o) => o.trim())
    .filter(Boolean);
  const perVisitor = Number($('#embed-visitor-rate').value);
  const budget = $('#embed-budget').value;
  try {
    const created = await api.post(`/v1/bots/${botId}/publishable-keys`, {
      allowed_origins: origins,
      ...(perVisitor ? { rate_limit: { per_visitor_per_minute: perVisitor } } : {}),
      ...(budget ? { monthly_token_budget: Number(budget) } : {}),
    });
    $('#embed-snippet').value = snippetFor(created.key);
    $('#embed-snippet').dataset.key = created.key;
    $('#embed-warnings').textContent = created.warnings.join(' ');
    $('#embed-result').hidden = false;
    $('#embed-snippet').focus();
    $('#embed-snippet').select();
    announce('Key created. Copy the snippet: the full key is shown only now.');
    await listKeys();
  } catch (error) {
    announce(error.message, 'error');
  }
}

async function copySnippet() {
  try {
    await navigator.clipboard.writeText($('#embed-snippet').value);
    announce('Snippet copied.');
  } catch {
    $('#embed-snippet').select();
    announce('Press Ctrl+C (⌘C) to copy the selected snippet.');
  }
}

/** Loads the widget into this page with the new key, as a visitor of this origin would see it. */
function preview() {
  const key = $('#embed-snippet').dataset.key;
  if (!key) return;
  for (const old of document.querySelectorAll('minirag-chat, script[data-minirag-preview]')) old.remove();
  const script = document.createElement('script');
  script.src = '/widget.js';
  script.dataset.key = key;
  script.dataset.api = location.origin;
  script.dataset.miniragPreview = '';
  script.dataset.open = 'true';
  document.body.append(script);
  announce('The widget is at the bottom right of this page.');
}

async function revoke(key) {
  if (!confirm(`Revoke ${key.prefix}? Sites using it stop working at once.`)) return;
  try {
    await api.delete(`/v1/publishable-keys/${key.id}`);
    announce('Key revoked.');
    await listKeys();
  } catch (error) {
    announce(error.message, 'error');
  }
}
