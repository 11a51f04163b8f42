// Bots: list, create, edit, delete. The provider key is write-only: only "configured …abcd" is shown.
import { api } from './api.js';
import { $, announce, h, loadError, render } from './dom.js';
import { initEmbed, showEmbed } from './embed.js';

let bots = [];
let onChange = () => {};

export function initBots(options) {
  onChange = options.onChange;
  $('#bot-new').addEventListener('click', () => edit(null));
  initEmbed();
  $('#bot-provider').addEventListener('change', syncProviderFields);
  $('#bot-form').addEventListener('submit', save);
  $('#bot-delete').addEventListener('click', remove);
  syncProviderFields();
}

/** Shows the tenant's bots (or why they could not be loaded); true when they were. */
export async function loadBots() {
  const list = $('#bot-list');
  try {
    bots = await api.all('/v1/bots');
  } catch (error) {
    render(list, h('li', {}, loadError('The bots', error, loadBots)));
    return false;
  }
  const selected = $('#bot-id').value;
  if (bots.length === 0) {
    render(
      list,
      h('li', { class: 'empty' }, 'No bots yet. A bot without a provider answers by quoting your documents.'),
    );
  } else {
    render(
      list,
      bots.map((b) =>
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              class: 'bot-item',
              'aria-current': b.id === selected ? 'true' : false,
              onclick: () => edit(b),
            },
            h('strong', {}, b.name),
            h('span', { class: 'muted' }, b.provider ? `${b.provider} · ${b.model}` : 'extractive (no LLM)'),
            b.credentials.configured ? h('span', { class: 'badge' }, `key ${b.credentials.last4}`) : null,
          ),
        ),
      ),
    );
  }
  // Not under a user who is already typing into the new-bot form (the list can arrive after they started).
  if (!selected && !$('#bot-form').contains(document.activeElement)) edit(null, false);
  return true;
}

function syncProviderFields() {
  const provider = $('#bot-provider').value;
  $('#provider-fields').hidden = !provider;
  $('label[for="bot-base-url"]').hidden = provider !== 'openai-compatible';
  $('#bot-base-url').hidden = provider !== 'openai-compatible';
  // Bedrock bots are served with the server's own AWS identity: there is no key to enter.
  for (const selector of ['label[for="bot-key"]', '#bot-key', '#bot-key-state']) {
    $(selector).hidden = provider === 'bedrock';
  }
}

function edit(bot, focus = true) {
  showEmbed(bot).catch((error) => announce(error.message, 'error'));
  $('#bot-id').value = bot?.id ?? '';
  $('#bot-form-title').textContent = bot ? `Edit ${bot.name}` : 'New bot';
  $('#bot-save').textContent = bot ? 'Save changes' : 'Create bot';
  $('#bot-delete').hidden = !bot;
  $('#bot-name').value = bot?.name ?? '';
  $('#bot-provider').value = bot?.provider ?? '';
  $('#bot-model').value = bot?.model ?? '';
  $('#bot-base-url').value = bot?.base_url ?? '';
  $('#bot-prompt').value = bot?.system_prompt ?? '';
  $('#bot-temperature').value = bot?.temperature ?? '';
  $('#bot-topk').value = bot?.retrieval?.top_k ?? '';
  $('#bot-query-expansion').checked = bot?.retrieval?.query_expansion ?? false;
  $('#bot-key').value = '';
  $('#bot-key-remove').checked = false;
  const configured = bot?.credentials?.configured;
  $('#bot-key').placeholder = configured ? `configured ${bot.credentials.last4} — type to replace` : 'sk-…';
  $('#bot-key-state').textContent = configured
    ? `A key is stored (configured ${bot.credentials.last4}). It is never shown again; leave the field empty to keep it.`
    : 'No key stored: the platform key is used if the operator set one.';
  $('#bot-key-remove-row').hidden = !configured;
  for (const b of document.querySelectorAll('.bot-item')) b.removeAttribute('aria-current');
  syncProviderFields();
  if (focus) $('#bot-name').focus();
}

const numberOrNull = (value) => (value === '' ? null : Number(value));

async function save(event) {
  event.preventDefault();
  const id = $('#bot-id').value;
  const provider = $('#bot-provider').value || null;
  const body = {
    name: $('#bot-name').value.trim(),
    provider,
    // Blank: the provider's default model (the API picks it on create and on a provider switch).
    model: provider ? $('#bot-model').value.trim() || undefined : null,
    base_url: provider === 'openai-compatible' ? $('#bot-base-url').value.trim() || null : null,
    system_prompt: $('#bot-prompt').value.trim() || null,
    temperature: numberOrNull($('#bot-temperature').value),
  };
  const topK = numberOrNull($('#bot-topk').value);
  body.retrieval = { query_expansion: $('#bot-query-expansion').checked };
  if (topK !== null) body.retrieval.top_k = topK;
  const key = provider === 'bedrock' ? '' : $('#bot-key').value.trim();
  if (key) body.credentials = { api_key: key };
  else if ($('#bot-key-remove').checked) body.credentials = null;
  if (body.model === undefined) delete body.model;
  try {
    const saved = id ? await api.patch(`/v1/bots/${id}`, body) : await api.post('/v1/bots', body);
    announce(id ? `Saved ${saved.name}.` : `Created ${saved.name}.`);
    $('#bot-id').value = saved.id;
    await loadBots();
    edit(bots.find((b) => b.id === saved.id) ?? saved, false);
    onChange();
  } catch (error) {
    announce(error.message, 'error');
  }
}

async function remove() {
  const id = $('#bot-id').value;
  const bot = bots.find((b) => b.id === id);
  if (!bot || !confirm(`Delete the bot "${bot.name}" and its chats?`)) return;
  try {
    await api.delete(`/v1/bots/${id}`);
    announce(`Deleted ${bot.name}.`);
    $('#bot-id').value = '';
    await loadBots();
    onChange();
  } catch (error) {
    announce(error.message, 'error');
  }
}
