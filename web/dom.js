// Tiny DOM helpers. Everything from the server goes in as text nodes, never as HTML.

/**
 * h('button', { class: 'x', onclick: fn, 'aria-label': 'Close' }, 'text', otherNode)
 * Attributes starting with "on" become listeners; false/null/undefined attributes are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function render(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** A short-lived status message in the live region (errors stay until dismissed, replaced or cleared by a success). */
export function announce(message, kind = 'info') {
  const region = $('#notice');
  render(
    region,
    h(
      'div',
      { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('span', {}, message),
      h(
        'button',
        { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => render(region) },
        '×',
      ),
    ),
  );
  clearTimeout(announce.timer);
  if (kind !== 'error') announce.timer = setTimeout(() => render(region), 5000);
}

/** Takes down an error notice: the next thing the user did has worked, so the error is old news. */
export function clearError() {
  if ($('#notice .notice-error')) render($('#notice'));
}

/** Takes down every notice (signing out). */
export function clearNotices() {
  clearTimeout(announce.timer);
  render($('#notice'));
}

/**
 * A view's own error state, in place of the data it could not load: what failed, the server's sentence, and a
 * way to try again (which clears the error notice too once it works).
 */
export function loadError(what, error, retry) {
  return h(
    'div',
    { class: 'load-error', role: 'alert' },
    h('span', {}, `${what} could not be loaded: ${error.message}`),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary small',
        onclick: async () => {
          if (await retry()) clearError();
        },
      },
      'Try again',
    ),
  );
}

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}
