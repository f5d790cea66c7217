// Shared by the knowledge pages: knowledge base lists, snippets with highlights, live job
// progress, and opening an original document at a page.

import { h } from '../lib/dom.js';
import { api, get, stream, items } from '../lib/api.js';
import { pageSignal } from '../lib/router.js';
import { toastError } from '../lib/ui.js';

/** Who reads a knowledge base; the server enforces it (private ones are 404 for viewers). */
export const VISIBILITY_OPTIONS = [['private', 'Private: editors and admins'], ['tenant', 'Tenant: every member'], ['public', 'Public: also the public endpoints']];
/** Short names of the same, for lists. */
export const VISIBILITY_LABELS = { private: 'Editors and admins', tenant: 'Every member', public: 'Public' };

/** Every knowledge base the caller may read (first 100), for pickers. */
export async function allKnowledgeBases() {
  return items(await get('/v1/knowledge-bases', { limit: 100 }));
}

/**
 * The API's snippet is HTML-escaped text with query words in <b>…</b>: rebuild it as text nodes
 * and <mark>s instead of parsing it as HTML.
 */
export function snippet(escaped) {
  const decode = (text) => text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, e) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" })[e]);
  const out = [];
  let marked = false;
  for (const part of escaped.split(/(<\/?b>)/)) {
    if (part === '<b>') marked = true;
    else if (part === '</b>') marked = false;
    else if (part) out.push(marked ? h('mark', {}, decode(part)) : decode(part));
  }
  return h('span', { class: 'snippet' }, out);
}

/** Progress bar element; update(percent). */
export function progressBar(percent = 0, label = 'Progress') {
  const fillEl = h('span', { style: { width: `${percent}%` } });
  const el = h('div', { class: 'progress', role: 'progressbar', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(percent) }, fillEl);
  el.update = (p) => { fillEl.style.width = `${p}%`; el.setAttribute('aria-valuenow', String(p)); };
  return el;
}

/**
 * Follows a job's events (GET /v1/jobs/{id}/events) until it is done or the page is left;
 * onUpdate(job) for each progress event. Falls back to polling if the stream breaks.
 */
export async function followJob(jobId, onUpdate, signal = pageSignal()) {
  let finished = false;
  try {
    await stream(`/v1/jobs/${jobId}/events`, {
      signal,
      onEvent: (type, job) => {
        if (typeof job !== 'object') return;
        onUpdate(job);
        if (type === 'done') finished = true;
      },
    });
  } catch (error) {
    if (error.name === 'AbortError') return;
  }
  while (!finished && !signal.aborted) {
    try {
      const job = await get(`/v1/jobs/${jobId}`, undefined, { signal });
      onUpdate(job);
      finished = ['succeeded', 'failed', 'cancelled'].includes(job.status);
    } catch (error) {
      if (error.name === 'AbortError') return;
      toastError(error);
      return;
    }
    if (!finished) await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Opens the original file (fetched with the caller's token) in a new tab, PDFs at `page`. */
export async function openOriginal(kbId, docId, page) {
  const tab = window.open('', '_blank');
  try {
    const response = await api(`/v1/knowledge-bases/${kbId}/documents/${docId}/content`, { raw: true });
    const blob = await response.blob();
    const href = URL.createObjectURL(blob) + (page && blob.type === 'application/pdf' ? `#page=${page}` : '');
    if (tab) tab.location.href = href; else location.href = href;
  } catch (error) {
    tab?.close();
    toastError(error);
  }
}

export function documentHref(kbId, docId, page) {
  return `/knowledge-bases/${kbId}/documents/${docId}${page ? `?page=${page}` : ''}`;
}

/** An ingestion stage in words: "OCR page 3 of 40" while scanned pages are read. */
export function stageLabel(stage, done, total, percent) {
  if (stage === 'ocr' && total) return `OCR page ${Math.min(done + 1, total)} of ${total}`;
  return `${stage} ${percent}%`;
}

export function pagesLabel(pages) {
  if (!pages?.length) return '';
  return pages.length === 1 ? `Page ${pages[0]}` : `Pages ${pages[0]}–${pages[pages.length - 1]}`;
}

