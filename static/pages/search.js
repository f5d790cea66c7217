// Search playground: one or more knowledge bases, lexical / semantic / hybrid, filters, and each
// hit's scores per source, so people can see why a passage ranks where it does.
import { h, fill } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { setQuery } from '../lib/router.js';
import { pageHeader, emptyState, errorBox, loading } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import { allKnowledgeBases, snippet, documentHref, pagesLabel } from './knowledge-common.js';

const MODES = [['lexical', 'Lexical'], ['semantic', 'Semantic'], ['hybrid', 'Hybrid']];
const FILE_TYPES = ['pdf', 'docx', 'html', 'markdown', 'text', 'csv', 'json'];

export default async function render(view, { query }) {
  const kbs = await allKnowledgeBases();
  view.append(pageHeader('Search', { subtitle: 'Try queries against your knowledge bases and compare the retrieval modes.' }));
  if (!kbs.length) {
    view.append(emptyState('No knowledge bases yet', 'Create a knowledge base and add documents first.', h('a', { class: 'button primary', href: '/knowledge-bases', 'data-link': true }, 'Go to knowledge bases')));
    return;
  }
  const chosen = query.get('kb');
  const kbSelect = h('select', { id: 'search-kb', multiple: kbs.length > 1, size: Math.min(4, kbs.length) },
    kbs.map((kb) => h('option', { value: kb.id, selected: !chosen || chosen.split(',').includes(kb.id) }, kb.name)));
  const input = h('input', { id: 'search-query', type: 'search', value: query.get('q') || '', required: true, autofocus: true, placeholder: 'What are you looking for?' });
  const mode = query.get('mode') || 'hybrid';
  const modes = h('div', { class: 'modes', role: 'radiogroup', 'aria-label': 'Mode' }, MODES.map(([value, label]) =>
    h('label', {}, h('input', { type: 'radio', name: 'mode', value, checked: value === mode }), label)));
  const limit = h('input', { id: 'search-limit', type: 'number', min: 1, max: 50, value: query.get('limit') || 10 });
  const types = h('div', { class: 'kb-checks' }, FILE_TYPES.map((t) => h('label', {}, h('input', { type: 'checkbox', value: t }), t)));
  const tags = h('input', { id: 'search-tags', placeholder: 'tag1, tag2' });
  const results = h('section', { 'aria-live': 'polite', 'aria-label': 'Results' });

  const formEl = h('form', { class: 'search-form card' },
    h('div', { class: 'field' }, h('label', { for: 'search-query' }, 'Query'), input),
    h('div', { class: 'row' }, modes,
      h('label', { class: 'inline', for: 'search-limit' }, 'Results', limit),
      h('button', { type: 'submit', class: 'primary' }, 'Search')),
    h('div', { class: 'grid-2' },
      h('div', { class: 'field' }, h('label', { for: 'search-kb' }, 'Knowledge base'), kbSelect),
      h('div', { class: 'field' }, h('span', { class: 'label' }, 'File types'), types, h('label', { for: 'search-tags', class: 'small' }, 'Tags (all must match)'), tags)));
  formEl.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  view.append(formEl, results);

  async function run() {
    const q = input.value.trim();
    if (!q) { input.focus(); return; }
    const selectedMode = formEl.querySelector('input[name=mode]:checked').value;
    const kbIds = [...kbSelect.selectedOptions].map((o) => o.value);
    const fileTypes = [...types.querySelectorAll('input:checked')].map((i) => i.value);
    const tagList = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    setQuery({ q, mode: selectedMode, kb: kbIds.length === kbs.length ? null : kbIds.join(','), limit: limit.value });
    fill(results, loading('Searching…'));
    try {
      const answer = await post('/v1/search', {
        query: q, mode: selectedMode, limit: Number(limit.value) || 10, knowledgeBases: kbIds,
        filters: { ...(fileTypes.length ? { fileTypes } : {}), ...(tagList.length ? { tags: tagList } : {}) },
      });
      fill(results, h('p', { class: 'muted small' }, `${answer.hits.length} results in ${answer.tookMs} ms (${answer.mode})`,
        answer.indexingDocuments ? ` · ${answer.indexingDocuments} documents still being indexed` : ''),
      answer.hits.length ? answer.hits.map((hit) => result(hit, kbs)) : emptyState('No results', 'Try other words, another mode, or fewer filters.'));
    } catch (error) {
      fill(results, errorBox(error));
    }
  }
  if (input.value) run();
}

function result(hit, kbs) {
  const kb = kbs.find((k) => k.id === hit.knowledgeBaseId);
  const page = hit.pages?.[0];
  const s = hit.scores;
  return h('article', { class: 'result', 'data-testid': 'search-result' },
    h('h3', {}, h('a', { href: documentHref(hit.knowledgeBaseId, hit.documentId, page), 'data-link': true }, hit.documentTitle)),
    h('div', { class: 'small muted' }, [kb?.name, pagesLabel(hit.pages), hit.headings.join(' › ')].filter(Boolean).join(' · ')),
    h('p', {}, snippet(hit.snippet)),
    h('div', { class: 'scores' },
      h('span', {}, `score ${formatNumber(hit.score, 3)}`),
      s.lexical !== null && s.lexical !== undefined ? h('span', {}, `lexical ${formatNumber(s.lexical, 2)} (#${s.lexicalRank})`) : null,
      s.semantic !== null && s.semantic !== undefined ? h('span', {}, `semantic ${formatNumber(s.semantic, 3)} (#${s.semanticRank})`) : null,
      s.fused !== null && s.fused !== undefined ? h('span', {}, `fused ${formatNumber(s.fused, 3)}`) : null));
}
