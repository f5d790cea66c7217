// One knowledge base: drag-and-drop upload of many files with per-file progress, then each
// file's ingestion followed live from its job's events; the document list with statuses,
// failure reasons, reindex and delete.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, upload } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate, pageSignal } from '../lib/router.js';
import { pageHeader, pagedTable, emptyState, button, actionButton, modal, form, statusBadge, confirmDialog, toast, badge } from '../lib/ui.js';
import { formatBytes, formatNumber, formatRelative } from '../lib/format.js';
import { followJob, progressBar, stageLabel, VISIBILITY_LABELS, VISIBILITY_OPTIONS } from './knowledge-common.js';

const ACCEPT = '.pdf,.docx,.xlsx,.xls,.ods,.pptx,.odt,.epub,.rtf,.eml,.html,.htm,.md,.markdown,.txt,.csv,.tsv,.json,.png,.jpg,.jpeg,.tif,.tiff,application/pdf,text/*,image/png,image/jpeg,image/tiff';

export default async function render(view, { params }) {
  const kb = await get(`/v1/knowledge-bases/${params.id}`);
  const canWrite = session.can('kb.write');
  const signal = pageSignal();
  const base = `/v1/knowledge-bases/${kb.id}`;
  const queue = h('ul', { class: 'upload-queue', 'aria-label': 'Uploads' });
  const summary = h('div');

  const documents = pagedTable(`${base}/documents`, [
    { label: 'Document', value: (d) => h('a', { href: `/knowledge-bases/${kb.id}/documents/${d.id}`, 'data-link': true }, d.title) },
    { label: 'Type', value: (d) => d.kind ?? '—' },
    { label: 'Status', value: (d) => documentStatus(d) },
    { label: 'Pages', class: 'num', value: (d) => formatNumber(d.pages) },
    { label: 'Chunks', class: 'num', value: (d) => formatNumber(d.chunkCount) },
    { label: 'Size', class: 'num', value: (d) => formatBytes(d.bytes) },
    { label: 'Added', value: (d) => formatRelative(d.createdAt) },
    { label: '', value: (d) => canWrite ? h('span', { class: 'row' },
      actionButton('Reindex', async () => { await post(`${base}/documents/${d.id}/reindex`); toast(`Reindexing ${d.title}`); documents.refresh(); }, { kind: 'small' }),
      actionButton('Delete', async () => {
        if (!await confirmDialog('Delete document', `Delete ${d.title} and its chunks? Search and chat stop using it at once.`, { confirm: 'Delete', danger: true })) return;
        await del(`${base}/documents/${d.id}`);
        toast('Document deleted', 'success');
        documents.refresh();
      }, { kind: 'small danger' })) : null },
  ], {
    query: { sort: '-createdAt' },
    rowAttrs: (d) => ({ 'data-testid': 'document-row', 'data-status': d.status }),
    onRowClick: (d) => navigate(`/knowledge-bases/${kb.id}/documents/${d.id}`),
    onLoad: (rows) => watchUnfinished(rows),
    empty: emptyState('No documents yet', canWrite ? 'Drop files above or choose them: PDF, DOCX, HTML, Markdown, text, CSV, JSON.' : 'Nobody has added documents yet.'),
  });

  // Documents still being ingested: follow their jobs and refresh the list when one finishes.
  const followed = new Set();
  function watchUnfinished(rows) {
    for (const d of rows) {
      const jobId = d.progress?.jobId;
      if (!jobId || followed.has(jobId) || d.status === 'ready' || d.status === 'failed') continue;
      followed.add(jobId);
      let last = '';
      followJob(jobId, (job) => {
        const key = `${job.status}:${job.stage}:${job.progress}`;
        if (key !== last) { last = key; scheduleRefresh(); }
      }, signal);
    }
    refreshSummary();
  }
  let pending = null;
  function scheduleRefresh() {
    pending ??= setTimeout(() => { pending = null; documents.refresh(); }, 400);
  }
  async function refreshSummary() {
    try {
      const fresh = await get(base, undefined, { signal });
      fill(summary, summaryBadges(fresh));
    } catch { /* the list shows errors */ }
  }

  const actions = [];
  if (canWrite) {
    actions.push(
      actionButton('Reindex all', async () => {
        if (!await confirmDialog('Reindex knowledge base', 'Parse, chunk and embed every document again (after changing chunk settings, for example). Search keeps working meanwhile.', { confirm: 'Reindex' })) return;
        const job = await post(`${base}/reindex`);
        toast('Reindexing started');
        followJob(job.id, () => scheduleRefresh(), signal);
      }),
      button('Settings', () => settingsDialog(kb)),
      actionButton('Delete', async () => {
        if (!await confirmDialog('Delete knowledge base', `Delete ${kb.name} with all its documents? This cannot be undone.`, { confirm: 'Delete', danger: true })) return;
        await del(base);
        toast('Knowledge base deleted', 'success');
        navigate('/knowledge-bases');
      }, { kind: 'danger' }));
  }

  view.append(
    pageHeader(kb.name, { subtitle: kb.description || `Embedding model ${kb.embeddingModel} · chunks of ${kb.chunkMaxTokens} tokens · languages ${(kb.languages || ['en']).join(', ')}`, actions }),
    summary,
    canWrite ? uploader(base, queue, () => documents.refresh(), signal) : null,
    queue,
    h('h2', {}, 'Documents'),
    documents.el);
}

function summaryBadges(kb) {
  const s = kb.status;
  return h('p', { class: 'row' }, badge(`Visible to: ${VISIBILITY_LABELS[kb.visibility] ?? kb.visibility}`),
    badge(`${formatNumber(kb.documents)} documents`), badge(`${formatNumber(kb.chunks)} chunks`),
    s.ready ? badge(`${s.ready} ready`, 'ok') : null, s.queued + s.processing ? badge(`${s.queued + s.processing} indexing`, 'warn') : null,
    s.failed ? badge(`${s.failed} failed`, 'bad') : null);
}

function documentStatus(d) {
  if (d.status === 'failed') return h('div', {}, statusBadge('failed'), d.error ? h('div', { class: 'small error-text' }, d.error) : null);
  if (d.progress && d.status !== 'ready') {
    return h('div', { class: 'doc-progress' }, statusBadge(d.status), h('div', { class: 'small muted' }, stageLabel(d.progress.stage, d.progress.done, d.progress.total, d.progress.percent)), progressBar(d.progress.percent, `Ingestion of ${d.title}`));
  }
  return statusBadge(d.status);
}

/** The drop zone, the file input and the URL form. Each file is its own request, so one bad file
 * does not stop the others and each shows its own progress and answer. */
function uploader(base, queue, changed, signal) {
  const input = h('input', { type: 'file', multiple: true, accept: ACCEPT, id: 'kb-files', class: 'sr-only', onchange: () => { send([...input.files]); input.value = ''; } });
  const zone = h('div', { class: 'dropzone' },
    h('p', {}, 'Drop files here, or ', h('label', { for: 'kb-files', class: 'button primary', tabindex: '0', onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } } }, 'Choose files'), input),
    h('p', { class: 'small' }, 'PDF, DOCX, HTML, Markdown, text, CSV, JSON. Many at once.'));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); send([...e.dataTransfer.files]); });

  function send(files) {
    for (const file of files) uploadOne(file);
  }
  async function uploadOne(file) {
    const bar = progressBar(0, `Upload of ${file.name}`);
    const state = h('span', { class: 'small muted' }, 'uploading');
    const item = h('li', { 'data-testid': 'upload-item' }, h('span', { class: 'name' }, file.name), h('span', { class: 'small muted' }, formatBytes(file.size)), bar, state);
    queue.prepend(item);
    const data = new FormData();
    data.append('file', file, file.name);
    try {
      const accepted = await upload(`${base}/documents`, data, { onProgress: (f) => bar.update(Math.round(f * 100)), signal });
      bar.update(100);
      changed();
      if (!accepted?.job) { fill(state, 'added'); return; }
      await followJob(accepted.job.id, (job) => {
        bar.update(job.progress);
        fill(state, job.status === 'succeeded' ? statusBadge('ready') : job.status === 'failed' ? h('span', { class: 'error-text' }, job.error || 'failed') : stageLabel(job.stage, job.done, job.total, job.progress));
      }, signal);
      changed();
      if (!item.querySelector('.error-text')) setTimeout(() => item.remove(), 4000);
    } catch (error) {
      if (error.name === 'AbortError') return;
      fill(state, h('span', { class: 'error-text', role: 'alert' }, error.message));
    }
  }

  const urlForm = form([
    { name: 'url', label: 'Add a web page by URL', type: 'url', placeholder: 'https://example.com/handbook', required: true },
  ], async ({ url }, el) => {
    const accepted = await post(`${base}/documents`, { url });
    el.reset();
    toast(`Fetched ${accepted.document.title}`, 'success');
    changed();
  }, { submit: 'Add URL' });
  urlForm.classList.add('inline-form');
  return h('section', { class: 'stack' }, zone, urlForm);
}

function settingsDialog(kb) {
  const { close } = modal('Knowledge base settings', form([
    { name: 'name', label: 'Name', required: true, value: kb.name },
    { name: 'description', label: 'Description', type: 'textarea', rows: 2, value: kb.description },
    { name: 'visibility', label: 'Visibility', type: 'select', value: kb.visibility, options: VISIBILITY_OPTIONS },
    { name: 'chunkMaxTokens', label: 'Chunk size (tokens)', type: 'number', value: kb.chunkMaxTokens, help: 'Takes effect for new documents and after "Reindex all".' },
    { name: 'chunkOverlapTokens', label: 'Chunk overlap (tokens)', type: 'number', value: kb.chunkOverlapTokens },
  ], async (values) => {
    await patch(`/v1/knowledge-bases/${kb.id}`, values);
    close();
    toast('Saved', 'success');
    navigate(location.pathname);
  }, { submit: 'Save', cancel: () => close() }));
}
