// MiniRAG playground: sign-in, tabs, and the four sections (chat, sources, bots, usage).
import { ApiError, api, session } from './api.js';
import { initBots, loadBots } from './bots.js';
import { initChat, refreshBotChoices } from './chat.js';
import { $, announce, clearError, clearNotices } from './dom.js';
import { initSources, loadSources } from './sources.js';
import { loadUsage } from './usage.js';

const TABS = ['chat', 'sources', 'bots', 'usage'];
const onShow = {
  chat: () => refreshBotChoices(),
  sources: () => loadSources(),
  bots: () => loadBots(),
  usage: () => loadUsage(),
};

async function signIn(token) {
  session.token = token;
  try {
    const me = await api.get('/v1/tenants/me');
    $('#who-name').textContent = `${me.tenant.name} (${me.identity.email ?? me.identity.role})`;
    $('#who').hidden = false;
    $('#signin').hidden = true;
    $('#workspace').hidden = false;
    clearError();
    showTab(location.hash.slice(1) || 'chat', false);
    return true;
  } catch (error) {
    session.token = null;
    announce(error instanceof ApiError ? error.message : String(error), 'error');
    return false;
  }
}

function signOut() {
  session.token = null;
  clearNotices();
  $('#workspace').hidden = true;
  $('#who').hidden = true;
  $('#signin').hidden = false;
  $('#citation-panel').hidden = true;
  $('#token').value = '';
  $('#token').focus();
}

function showTab(name, focus = true) {
  const active = TABS.includes(name) ? name : 'chat';
  for (const tab of TABS) {
    const button = $(`#tab-${tab}`);
    const selected = tab === active;
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`#panel-${tab}`).hidden = !selected;
  }
  if (focus) $(`#tab-${active}`).focus();
  history.replaceState(null, '', `#${active}`);
  // Each view shows its own load error in place; a view that loads is a success that retires an old error.
  Promise.resolve(onShow[active]()).then(
    (loaded) => loaded && clearError(),
    (error) => announce(error.message, 'error'),
  );
}

function initTabs() {
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener('click', () => showTab(tab));
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  $('.tabs').addEventListener('keydown', (event) => {
    const current = TABS.indexOf(document.activeElement?.id?.replace('tab-', ''));
    if (current < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (step) {
      event.preventDefault();
      showTab(TABS[(current + step + TABS.length) % TABS.length]);
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      showTab(TABS[event.key === 'Home' ? 0 : TABS.length - 1]);
    }
  });
}

function init() {
  initTabs();
  initChat();
  initSources();
  initBots({ onChange: () => refreshBotChoices() });
  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $('#token').value.trim();
    if (token) await signIn(token);
  });
  $('#sign-out').addEventListener('click', signOut);
  $('#citation-close').addEventListener('click', () => {
    $('#citation-panel').hidden = true;
    document.querySelector('.cite[aria-expanded="true"]')?.focus();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('#citation-panel').hidden) $('#citation-close').click();
  });
  if (session.token) signIn(session.token);
  else $('#token').focus();
}

init();
