// The audit log: who did what, when, from where; filtered (kept in the URL) and exportable.
import { h } from '../lib/dom.js';
import { download } from '../lib/api.js';
import { setQuery } from '../lib/router.js';
import { pageHeader, pagedTable, actionButton, emptyState, modal } from '../lib/ui.js';
import { formatDate } from '../lib/format.js';

const FILTERS = [
  ['actor', 'Actor', 'user:<id> or api_key:<id>'],
  ['action', 'Action', 'entry.published or entry.*'],
  ['target', 'Target', 'entry or entry:<id>'],
  ['from', 'From', '', 'date'],
  ['to', 'To', '', 'date'],
];

export default async function render(view, { query }) {
  const filters = Object.fromEntries(FILTERS.map(([name]) => [name, query.get(name) || '']));
  const list = pagedTable('/v1/audit-events', [
    { label: 'When', value: (e) => formatDate(e.createdAt) },
    { label: 'Action', value: (e) => h('code', {}, e.action) },
    { label: 'Actor', value: (e) => h('span', { class: 'small' }, `${e.actorKind}${e.actorId ? `:${e.actorId.slice(0, 8)}` : ''}`) },
    { label: 'Target', value: (e) => h('span', { class: 'small' }, `${e.targetKind}${e.targetId ? `:${e.targetId.slice(0, 8)}` : ''}`) },
    { label: 'IP', value: (e) => h('span', { class: 'small' }, e.ip || '—') },
  ], { query: apiQuery(filters), onRowClick: details, empty: emptyState('No events', 'Nothing matches these filters.') });
  const apply = () => { setQuery(filters); list.reload(apiQuery(filters)); };
  const form = h('form', { class: 'filters' }, FILTERS.map(([name, label, placeholder, type]) => h('div', { class: 'field' },
    h('label', { for: `audit-${name}` }, label),
    h('input', { id: `audit-${name}`, type: type || 'search', value: filters[name], placeholder, onchange: (e) => { filters[name] = e.target.value; } }))),
  h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  view.append(
    pageHeader('Audit log', { subtitle: 'Every change in this tenant, with who made it and from where.', actions: [
      actionButton('Export CSV', () => download('/v1/audit-events.csv', apiQuery(filters), 'audit-events.csv'))] }),
    form, list.el);
}

/** The API takes the filters as they are (days as YYYY-MM-DD, `to` included). */
function apiQuery(filters) {
  return { ...filters };
}

function details(e) {
  modal(e.action, [
    h('dl', { class: 'facts' },
      h('dt', {}, 'When'), h('dd', {}, formatDate(e.createdAt)),
      h('dt', {}, 'Actor'), h('dd', {}, h('code', {}, `${e.actorKind}${e.actorId ? `:${e.actorId}` : ''}`)),
      h('dt', {}, 'Target'), h('dd', {}, h('code', {}, `${e.targetKind}${e.targetId ? `:${e.targetId}` : ''}`)),
      h('dt', {}, 'IP'), h('dd', {}, e.ip || '—'),
      h('dt', {}, 'Request'), h('dd', {}, h('code', {}, e.requestId || '—'))),
    h('h3', {}, 'Details'), h('pre', {}, JSON.stringify(e.details, null, 2)),
  ], { wide: true });
}
