// Chat: streamed answers (fetch + ReadableStream SSE) with clickable [n] citations.
import { ApiError, api } from './api.js';
import { $, announce, clearError, h, loadError, render } from './dom.js';
import { answerActions } from './trace.js';

let bots = [];
let chatId = null;
let chatBotId = null;
let answering = null;

/** Fills the bot picker (or says why it could not be filled); true when the bots were loaded. */
export async function refreshBotChoices() {
  const select = $('#chat-bot');
  const status = $('#chat-status');
  try {
    bots = await api.all('/v1/bots');
  } catch (error) {
    render(select, h('option', { value: '' }, 'No bots loaded'));
    render(status, loadError('The bots', error, refreshBotChoices));
    return false;
  }
  render(status);
  const previous = select.value;
  render(
    select,
    bots.length === 0
      ? h('option', { value: '' }, 'Default bot (created with your first question)')
      : bots.map((b) =>
          h(
            'option',
            { value: b.id },
            `${b.name} — ${b.provider ? `${b.provider}/${b.model}` : 'extractive'}`,
          ),
        ),
  );
  if (bots.some((b) => b.id === previous)) select.value = previous;
  await introduceEmptyTenant();
  return true;
}

const INTRO = 'Ask a question about your documents. Answers stream in, with numbered citations you can open.';
const NO_SOURCES =
  'No sources yet: add documents under Sources first, then ask about them here. Answers cite the passages they use.';

/** A conversation not yet started says what to do first when the tenant has nothing to ask about. */
async function introduceEmptyTenant() {
  const intro = $('#messages > .empty:only-child');
  if (!intro) return;
  try {
    const page = await api.get('/v1/sources', { limit: 1 });
    intro.textContent = page.data.length === 0 ? NO_SOURCES : INTRO;
  } catch {
    // Only a hint: the question box works either way.
  }
}

function newChat() {
  chatId = null;
  render($('#messages'), h('p', { class: 'empty' }, 'New chat. Ask a question about your documents.'));
  introduceEmptyTenant();
  $('#question').focus();
}

async function ensureChat() {
  let botId = $('#chat-bot').value;
  if (!botId) {
    const bot = await api.post('/v1/bots', { name: 'Default bot' });
    await refreshBotChoices();
    $('#chat-bot').value = bot.id;
    botId = bot.id;
  }
  if (!chatId || chatBotId !== botId) {
    chatId = (await api.post('/v1/chats', { bot_id: botId })).id;
    chatBotId = botId;
  }
  return chatId;
}

/** The answer text with each [n] that names a known source turned into a button. */
function renderAnswer(el, text, citations) {
  const parts = text.split(/(\[\d+\])/);
  render(
    el,
    parts.map((part) => {
      const match = /^\[(\d+)\]$/.exec(part);
      const citation = match && citations.get(Number(match[1]));
      return citation ? citeButton(citation) : part;
    }),
  );
}

function citeButton(citation) {
  return h(
    'button',
    {
      type: 'button',
      class: 'cite',
      'aria-label': `Source ${citation.n}: ${citation.title}`,
      'aria-controls': 'citation-panel',
      'aria-expanded': 'false',
      onclick: (event) => openCitation(citation, event.currentTarget),
    },
    `[${citation.n}]`,
  );
}

function openCitation(citation, button) {
  for (const b of document.querySelectorAll('.cite[aria-expanded="true"]'))
    b.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-expanded', 'true');
  $('#citation-title').textContent = `[${citation.n}] ${citation.title}`;
  $('#citation-meta').textContent =
    `Characters ${citation.start_offset}–${citation.end_offset} of the source · ${citation.chunk_ids.length} chunk(s)`;
  $('#citation-snippet').textContent = citation.snippet;
  const panel = $('#citation-panel');
  panel.hidden = false;
  panel.focus();
}

async function ask(question) {
  const log = $('#messages');
  log.querySelector('.empty')?.remove();
  log.append(h('div', { class: 'msg user' }, h('div', { class: 'msg-role' }, 'You'), h('p', {}, question)));
  const body = h('p', { class: 'answer streaming' });
  const sources = h('div', { class: 'msg-sources' });
  const meta = h('div', { class: 'msg-meta muted' });
  const message = h(
    'div',
    { class: 'msg bot' },
    h('div', { class: 'msg-role' }, 'Answer'),
    body,
    sources,
    meta,
  );
  log.append(message);
  log.scrollTop = log.scrollHeight;

  const citations = new Map();
  let text = '';
  let cited = [];
  let messageId = null;
  answering = new AbortController();
  setBusy(true);
  try {
    const id = await ensureChat();
    for await (const frame of api.stream(
      `/v1/chats/${id}/messages`,
      { content: question, stream: true },
      answering.signal,
    )) {
      const data = JSON.parse(frame.data);
      if (frame.event === 'meta') messageId = data.message_id;
      else if (frame.event === 'citations') for (const c of data.citations) citations.set(c.n, c);
      else if (frame.event === 'delta') {
        text += data.text;
        renderAnswer(body, text, citations);
        log.scrollTop = log.scrollHeight;
      } else if (frame.event === 'usage') {
        meta.textContent = usageText(data);
      } else if (frame.event === 'done') cited = data.cited;
      else if (frame.event === 'error') throw new ApiError(data.status, data);
      else if (frame.event === 'json') {
        messageId = data.message_id;
        for (const c of data.citations) citations.set(c.n, c);
        text = data.content;
        renderAnswer(body, text, citations);
      }
    }
    clearError();
    const shown = [...citations.values()].filter((c) => cited.length === 0 || cited.includes(c.n));
    if (shown.length > 0) {
      render(
        sources,
        h('h3', {}, 'Sources'),
        h(
          'ol',
          {},
          shown.map((c) => h('li', { value: c.n }, citeButton(c), ' ', c.title)),
        ),
      );
    }
    if (messageId) message.append(...answerActions(id, messageId));
  } catch (error) {
    if (error.name === 'AbortError') body.append(h('em', { class: 'muted' }, ' (stopped)'));
    else {
      body.append(h('span', { class: 'error' }, ` ${error.message}`));
      announce(error.message, 'error');
    }
  } finally {
    body.classList.remove('streaming');
    answering = null;
    setBusy(false);
  }
}

/** Tokens and cost, or — when no language model wrote the answer (it quotes passages) — just that. */
export function usageText(usage) {
  if (usage.provider === 'extractive') return 'extractive, no model';
  return `${usage.input_tokens} input / ${usage.output_tokens} output tokens · $${usage.cost_usd.toFixed(4)}`;
}

function setBusy(busy) {
  $('#ask-button').disabled = busy;
  $('#stop-button').hidden = !busy;
  $('#chat-bot').disabled = busy;
}

export function initChat() {
  $('#new-chat').addEventListener('click', newChat);
  $('#chat-bot').addEventListener('change', newChat);
  $('#stop-button').addEventListener('click', () => answering?.abort());
  const input = $('#question');
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('#ask-form').requestSubmit();
    }
  });
  $('#ask-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || answering) return;
    input.value = '';
    ask(question).then(() => input.focus());
  });
}
