// Sources: upload files (direct uploads, with progress) and URLs, then watch their status until COMPLETED or FAILED.
import { ApiError, api } from './api.js';
import { $, announce, formatDate, h, loadError, render } from './dom.js';

const POLL_MS = 1500;
let pollTimer = null;
let shown = null;

const busy = (s) => s.status === 'PENDING' || s.status === 'PROCESSING';

/** Shows the tenant's sources (or why they could not be loaded); true when they were. */
export async function loadSources() {
  const body = $('#sources-body');
  let sources;
  try {
    sources = await api.all('/v1/sources');
  } catch (error) {
    clearTimeout(pollTimer);
    shown = null;
    render(body, h('tr', {}, h('td', { colspan: 6 }, loadError('The sources', error, loadSources))));
    return false;
  }
  // Re-render only on change, so a poll does not steal the focus from a button in the table.
  const signature = sources.map((s) => `${s.id}:${s.status}:${s.chunk_count}:${s.updated_at}`).join('|');
  if (signature !== shown || body.childElementCount === 0) {
    shown = signature;
    renderSources(body, sources);
  }
  // Keep polling while anything is still being ingested and the panel is visible.
  clearTimeout(pollTimer);
  if (sources.some(busy) && !$('#panel-sources').hidden) {
    pollTimer = setTimeout(loadSources, POLL_MS);
  }
  return true;
}

function renderSources(body, sources) {
  if (sources.length === 0) {
    render(
      body,
      h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'No sources yet: upload a file or add a URL.')),
    );
  } else {
    render(
      body,
      sources
        .sort((a, b) => b.created_at.localeCompare(a.created_at))
        .map((s) =>
          h(
            'tr',
            { 'data-source-id': s.id },
            h(
              'td',
              { class: 'title' },
              s.url ? h('a', { href: s.url, rel: 'noreferrer', target: '_blank' }, s.title) : s.title,
            ),
            h('td', {}, s.type),
            h(
              'td',
              {},
              h(
                'span',
                { class: `status status-${s.status.toLowerCase()}`, 'data-status': s.status },
                s.status,
              ),
              s.error ? h('div', { class: 'error small' }, s.error) : null,
            ),
            h('td', { class: 'num' }, s.chunk_count),
            h('td', {}, formatDate(s.updated_at)),
            h(
              'td',
              { class: 'actions' },
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary small',
                  onclick: () =>
                    act(() => api.post(`/v1/sources/${s.id}/reingest`), `Re-ingesting ${s.title}.`),
                  'aria-label': `Re-ingest ${s.title}`,
                },
                'Re-ingest',
              ),
              h(
                'button',
                {
                  type: 'button',
                  class: 'danger small',
                  'aria-label': `Delete ${s.title}`,
                  onclick: () =>
                    confirm(`Delete "${s.title}" and its chunks?`) &&
                    act(() => api.delete(`/v1/sources/${s.id}`), `Deleted ${s.title}.`),
                },
                'Delete',
              ),
            ),
          ),
        ),
    );
  }
}

async function act(fn, message) {
  try {
    await fn();
    announce(message);
  } catch (error) {
    announce(error.message, 'error');
  }
  await loadSources();
}

/**
 * A direct upload: declare the file, PUT its bytes to the URL the server hands out (XHR, for upload
 * progress), then complete it so ingestion starts.
 */
async function uploadFile(file) {
  const ticket = await api.post('/v1/sources/uploads', {
    filename: file.name,
    content_type: file.type || 'application/octet-stream',
    size_bytes: file.size,
  });
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.upload.method, ticket.upload.url);
    for (const [name, value] of Object.entries(ticket.upload.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) {
        announce(`Uploading ${file.name}: ${Math.floor((event.loaded / event.total) * 100)}%`);
      }
    };
    xhr.onload = () => {
      if (xhr.status < 300) return resolve();
      let detail = `the upload was refused (HTTP ${xhr.status})`;
      try {
        detail = JSON.parse(xhr.responseText).detail ?? detail;
      } catch {
        // S3 answers XML; the status says enough.
      }
      reject(new Error(detail));
    };
    xhr.onerror = () => reject(new Error('the upload could not reach the server'));
    xhr.send(file);
  });
  return api.post(`/v1/sources/${ticket.source_id}/complete`);
}

async function uploadFiles(files) {
  let added = 0;
  const failed = [];
  const known = [];
  for (const file of files) {
    try {
      await uploadFile(file);
      added++;
    } catch (error) {
      const existing =
        error instanceof ApiError && error.status === 409 ? error.problem.existing_source_id : null;
      if (existing) known.push(`${file.name} is already ingested.`);
      else failed.push(`${file.name}: ${error.message}`);
    }
    await loadSources();
  }
  // One notice for the whole batch, so a later file's success does not hide an earlier file's failure.
  const uploaded = added ? [`Uploaded ${added} file(s); ingestion has started.`] : [];
  const summary = [...uploaded, ...known, ...failed].join(' ');
  if (summary) announce(summary, failed.length ? 'error' : 'info');
  await loadSources();
}

export function initSources() {
  $('#upload-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('#files');
    if (input.files.length === 0) {
      announce('Choose one or more files first.', 'error');
      input.focus();
      return;
    }
    await uploadFiles([...input.files]);
    input.value = '';
  });
  $('#url-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const url = $('#url').value.trim();
    await act(
      () => api.post('/v1/sources', { type: 'url', url, title: url }),
      `Added ${url}; ingestion has started.`,
    );
    $('#url').value = '';
  });
  const drop = $('#upload-form');
  drop.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('dragging');
    if (event.dataTransfer?.files.length) uploadFiles([...event.dataTransfer.files]);
  });
}
