/**
 * The embeddable chat widget: `<script src="…/widget.js" data-key="mrag_pk_…" data-api="…"></script>`.
 * A launcher button and a chat panel inside a shadow root (the site's CSS cannot break it, and it touches
 * nothing of the site), answers streamed with their sources, keyboard accessible, full-screen on phones,
 * the conversation kept in sessionStorage. No framework, and no request to anyone but the MiniRAG API.
 */
import { type Citation, PublicApi, WidgetError } from './api.ts';
import { type Conversation, loadConversation, saveConversation, type Turn } from './conversation.ts';
import { STYLES } from './styles.ts';

type Attrs = Record<string, string>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string)[]
) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true" fill="currentColor"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';

/** Links only to web pages: a source's address is the tenant's data, not code to run here. */
const safeUrl = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? url : null);

function describe(error: unknown): { text: string; refused: boolean } {
  if (error instanceof WidgetError) {
    if (
      error.status === 0 ||
      error.status === 403 ||
      (error.status === 401 && /publishable key/.test(error.message))
    ) {
      return { text: 'This chat is not available on this website.', refused: true };
    }
    if (error.status === 429) {
      const wait = error.retryAfter && error.retryAfter <= 120 ? ` in ${error.retryAfter} seconds` : ' later';
      return {
        text: `${error.message || 'Too many messages right now.'} Please try again${wait}.`,
        refused: false,
      };
    }
    if (error.status === 400 && error.message) return { text: error.message, refused: false };
  }
  return { text: 'Something went wrong. Please try again.', refused: false };
}

function mount(script: HTMLScriptElement): void {
  const key = script.dataset.key ?? '';
  if (!key) {
    console.warn('MiniRAG widget: the script tag needs data-key="mrag_pk_…".');
    return;
  }
  const base = (script.dataset.api || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const api = new PublicApi(base, key);
  const conversation: Conversation = loadConversation(key);
  const save = () => saveConversation(key, conversation);

  // Its own element name: a site's `div { … }` rules do not match the host.
  const host = document.createElement('minirag-chat');
  host.setAttribute('data-minirag-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  // A constructed stylesheet passes a page's Content-Security-Policy that forbids inline <style>.
  const styling: Node[] = [];
  if ('adoptedStyleSheets' in root && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = el('style');
    style.textContent = STYLES;
    styling.push(style);
  }
  if (script.dataset.color && /^#[0-9a-f]{3,8}$/i.test(script.dataset.color)) {
    host.style.setProperty('--accent', script.dataset.color);
  }

  const title = el('h2', { id: 'mr-title' }, script.dataset.title || conversation.botName || 'Ask us');
  const close = el('button', { type: 'button', 'aria-label': 'Close chat' }, 'Close');
  const log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const input = el('textarea', {
    rows: '1',
    'aria-label': 'Your question',
    placeholder: 'Type your question…',
  });
  const send = el('button', { type: 'submit' }, 'Send');
  const form = el('form', {}, input, send);
  const panel = el(
    'div',
    { class: 'panel', role: 'dialog', 'aria-labelledby': 'mr-title', id: 'mr-panel', hidden: '' },
    el('header', {}, title, close),
    log,
    form,
  );
  const launcher = el('button', {
    class: 'launcher',
    type: 'button',
    'aria-label': 'Open chat',
    'aria-expanded': 'false',
    'aria-controls': 'mr-panel',
  });
  launcher.innerHTML = CHAT_ICON;
  root.append(...styling, panel, launcher);

  function sourcesList(sources: Citation[]): HTMLElement {
    const list = el('ol', { class: 'sources', 'aria-label': 'Sources' });
    for (const source of sources) {
      const url = safeUrl(source.url);
      const label = `[${source.n}] ${source.title}`;
      list.append(
        el(
          'li',
          {},
          url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label) : label,
        ),
      );
    }
    return list;
  }

  function render(turn: Turn): HTMLElement {
    const node = el('div', {
      class: turn.role === 'user' ? 'msg user' : turn.role === 'bot' ? 'msg bot' : 'notice',
    });
    node.textContent = turn.text;
    if (turn.sources?.length) node.append(sourcesList(turn.sources));
    log.append(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  function notice(text: string, refused = false): void {
    const node = render({ role: 'notice', text });
    if (refused) node.classList.add('refused');
  }

  for (const turn of conversation.turns) render(turn);

  /** A visitor session and a chat, made when first needed and again when the token nears its end. */
  async function ensureChat(renew = false): Promise<{ token: string; chatId: string }> {
    const fresh = conversation.token && (conversation.expiresAt ?? 0) > Date.now() + 60_000;
    if (renew || !fresh || !conversation.chatId) {
      const session = await api.startSession();
      conversation.token = session.token;
      conversation.expiresAt = session.expiresAt;
      conversation.botName = session.botName;
      if (!script.dataset.title) title.textContent = session.botName;
      conversation.chatId = await api.startChat(session.token);
      save();
    }
    return { token: conversation.token!, chatId: conversation.chatId! };
  }

  let refused = false;
  function refuse(error: unknown): void {
    const { text, refused: isRefusal } = describe(error);
    notice(text, isRefusal);
    if (isRefusal) {
      refused = true;
      input.disabled = true;
      send.disabled = true;
      console.warn(
        `MiniRAG widget: the API refused this site or could not be reached. Is ${location.origin} among the publishable key's allowed origins, and is the key active?`,
      );
    }
  }

  let busy: AbortController | undefined;
  async function ask(question: string): Promise<void> {
    busy = new AbortController();
    send.disabled = true;
    conversation.turns.push({ role: 'user', text: question });
    render({ role: 'user', text: question });
    const turn: Turn = { role: 'bot', text: '' };
    const bubble = render(turn);
    bubble.classList.add('pending');
    bubble.setAttribute('aria-busy', 'true');
    let citations: Citation[] = [];
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const { token, chatId } = await ensureChat(attempt > 0);
          for await (const event of api.ask(token, chatId, question, busy.signal)) {
            if (event.type === 'citations') citations = event.citations;
            else if (event.type === 'delta') {
              turn.text += event.text;
              bubble.textContent = turn.text;
              log.scrollTop = log.scrollHeight;
            } else if (event.type === 'done') {
              turn.sources = citations.filter((c) => event.cited.includes(c.n));
              if (turn.sources.length) bubble.append(sourcesList(turn.sources));
            } else if (event.type === 'error') throw new WidgetError(event.message, 502);
          }
          break;
        } catch (error) {
          // An expired or revoked session: one new session, then give up.
          if (error instanceof WidgetError && error.status === 401 && attempt === 0 && !turn.text) continue;
          throw error;
        }
      }
    } catch (error) {
      if (!turn.text) bubble.remove();
      refuse(error);
    } finally {
      bubble.classList.remove('pending');
      bubble.removeAttribute('aria-busy');
      if (turn.text) conversation.turns.push(turn);
      save();
      busy = undefined;
      send.disabled = refused;
    }
  }

  function setOpen(open: boolean): void {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? 'Close chat' : 'Open chat');
    conversation.open = open;
    save();
    if (open) {
      input.focus();
      // Start the session on first open: a refused site learns it at once, before anyone types.
      if (!conversation.chatId && !refused) {
        ensureChat().then(() => {
          if (conversation.turns.length === 0)
            notice("Hi! Ask a question and I'll answer from this site's documents.");
        }, refuse);
      }
    } else launcher.focus();
  }

  launcher.addEventListener('click', () => setOpen(panel.hidden));
  close.addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') setOpen(false);
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question || busy || refused) return;
    input.value = '';
    void ask(question);
  });

  document.body.append(host);
  if (conversation.open || script.dataset.open === 'true') setOpen(true);
}

const current = document.currentScript as HTMLScriptElement | null;
if (current) {
  if (document.body) mount(current);
  else document.addEventListener('DOMContentLoaded', () => mount(current), { once: true });
}
