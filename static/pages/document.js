// One document: its details, failure reason, and its chunks with pages; ?page=N highlights the
// chunks of that page (where chat citations lead).
import { h, fill } from '../lib/dom.js';
import { get } from '../lib/api.js';
import { pageHeader, actionButton, stats, statusBadge, button, loading, errorBox, emptyState } from '../lib/ui.js';
import { formatBytes, formatDate, formatNumber } from '../lib/format.js';
import { openOriginal, pagesLabel } from './knowledge-common.js';

const PAGE_SIZE = 100;

export default async function render(view, { params, query }) {
  const kbPath = `/v1/knowledge-bases/${params.id}`;
  const [kb, doc] = await Promise.all([get(kbPath), get(`${kbPath}/documents/${params.doc}`)]);
  const wanted = Number(query.get('page')) || null;
  const chunks = h('div', { class: 'chunks' });
  view.append(
    pageHeader(doc.title, {
      subtitle: h('span', {}, h('a', { href: `/knowledge-bases/${kb.id}`, 'data-link': true }, kb.name), ` · ${doc.kind ?? 'unknown type'} · added ${formatDate(doc.createdAt)}`),
      actions: [actionButton(wanted ? `Open original at page ${wanted}` : 'Open original', () => openOriginal(kb.id, doc.id, wanted))],
    }),
    h('p', {}, statusBadge(doc.status)),
    doc.error ? h('div', { class: 'alert error', role: 'alert' }, doc.error) : null,
    stats([
      { label: 'Pages', value: formatNumber(doc.pages) },
      { label: 'Chunks', value: formatNumber(doc.chunkCount) },
      { label: 'Size', value: formatBytes(doc.bytes) },
      { label: 'Source', value: doc.sourceKind, hint: doc.sourceName || '' },
    ]),
    parseDetails(doc.parse),
    Object.keys(doc.metadata || {}).length ? h('details', {}, h('summary', {}, 'Metadata'), h('pre', {}, JSON.stringify(doc.metadata, null, 2))) : null,
    h('h2', {}, wanted ? `Chunks · page ${wanted} highlighted` : 'Chunks'),
    chunks);
  await showChunks(chunks, `${kbPath}/documents/${doc.id}/chunks`, wanted);
}

/** What parsing found besides text: pages read by OCR (with Tesseract's confidence), pages OCR
 * could not read, tables kept as tables. */
function parseDetails(parse) {
  if (!parse || (!parse.ocrPages.length && !parse.ocrFailures.length && !parse.tables)) return null;
  const where = (page) => (page == null ? 'the image' : `page ${page}`);
  return h('section', { class: 'parse-report', 'aria-label': 'Parsing' },
    parse.tables ? h('p', {}, `${formatNumber(parse.tables)} ${parse.tables === 1 ? 'table' : 'tables'} kept as tables (chunked by rows under their header).`) : null,
    parse.ocrPages.length ? h('p', {}, `Read by OCR: ${parse.ocrPages.map((p) => `${where(p.page)} (${p.words} words, ${Math.round(p.confidence)}% confidence)`).join(', ')}.`) : null,
    parse.ocrFailures.length ? h('p', { class: 'error-text' }, `OCR could not read ${parse.ocrFailures.map((f) => `${where(f.page)}: ${f.reason}`).join('; ')}.`) : null);
}

/** Pages through the chunks; starts at the page of the chunk list that holds `wanted`. */
async function showChunks(el, path, wanted) {
  let page = 1;
  async function load() {
    fill(el, loading());
    try {
      const result = await get(path, { page, limit: PAGE_SIZE });
      if (wanted && page === 1 && result.pagination.pages > 1 && !result.data.some((c) => c.pages.includes(wanted))) {
        const later = await findPageOf(path, wanted, result.pagination.pages);
        if (later && later !== page) { page = later; return load(); }
      }
      if (!result.data.length) { fill(el, emptyState('No chunks', 'The document has no text yet: it is still being processed, failed, or holds only images.')); return; }
      const cards = result.data.map((c) => h('article', { class: ['chunk', wanted && c.pages.includes(wanted) ? 'highlight' : ''], id: `chunk-${c.index}` },
        h('div', { class: 'meta' }, `#${c.index + 1} · ${pagesLabel(c.pages) || 'no page'} · ${c.tokens} tokens${c.headings.length ? ` · ${c.headings.join(' › ')}` : ''}`),
        c.text));
      const p = result.pagination;
      fill(el, cards, p.pages > 1 ? h('nav', { class: 'pager' },
        button('← Previous', () => { page -= 1; load(); }, { disabled: !p.hasPrev }),
        h('span', { class: 'muted' }, `Chunks ${(p.page - 1) * p.limit + 1}–${Math.min(p.total, p.page * p.limit)} of ${p.total}`),
        button('Next →', () => { page += 1; load(); }, { disabled: !p.hasNext })) : null);
      el.querySelector('.chunk.highlight')?.scrollIntoView({ block: 'center' });
    } catch (error) {
      fill(el, errorBox(error));
    }
  }
  await load();
}

async function findPageOf(path, wanted, pages) {
  for (let p = 2; p <= pages; p += 1) {
    const result = await get(path, { page: p, limit: PAGE_SIZE });
    if (result.data.some((c) => c.pages.includes(wanted))) return p;
  }
  return null;
}
