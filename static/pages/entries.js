// Entries of the current site, filtered by type, status, locale and words (kept in the URL).
import { h } from '../lib/dom.js';
import { session } from '../lib/session.js';
import { navigate, setQuery } from '../lib/router.js';
import { pageHeader, pagedTable, emptyState, button, modal, form, statusBadge } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';
import { currentSite, sitePicker, noSite, contentTypes } from './content-common.js';

export default async function render(view, { query }) {
  const { sites, site } = await currentSite();
  if (!site) { view.append(pageHeader('Entries'), noSite()); return; }
  const types = await contentTypes();
  const canWrite = session.can('content.write') || session.can('content.write_own');
  const typeName = (apiId) => types.find((t) => t.apiId === apiId)?.name ?? apiId;
  const create = () => newEntryDialog(types);
  const filters = { type: query.get('type') || '', status: query.get('status') || '', locale: query.get('locale') || '', q: query.get('q') || '' };
  const list = pagedTable(`/v1/sites/${site.id}/entries`, [
    { label: 'Title', value: (e) => h('a', { href: `/content/entries/${e.id}`, 'data-link': true }, e.title) },
    { label: 'Type', value: (e) => typeName(e.type) },
    { label: 'Status', value: (e) => statusBadge(e.status) },
    { label: 'Locale', value: (e) => e.locale },
    { label: 'Slug', value: (e) => h('code', { class: 'small' }, e.slug) },
    { label: 'Updated', value: (e) => formatRelative(e.updatedAt) },
  ], {
    query: { ...filters, sort: '-updatedAt' },
    onRowClick: (e) => navigate(`/content/entries/${e.id}`),
    empty: emptyState('No entries', filters.q || filters.type || filters.status ? 'Nothing matches these filters.' : 'Write your first post or page.', canWrite ? button('New entry', create, { kind: 'primary' }) : null),
  });
  const control = (name, label, el) => h('div', { class: 'field' }, h('label', { for: `filter-${name}` }, label), el);
  const update = (name, value) => { filters[name] = value; setQuery(filters); list.reload({ ...filters, sort: '-updatedAt' }); };
  const choose = (name, options) => h('select', { id: `filter-${name}`, onchange: (e) => update(name, e.target.value) },
    options.map(([v, l]) => h('option', { value: v, selected: v === filters[name] }, l)));
  let typing;
  view.append(
    pageHeader('Entries', { subtitle: sitePicker(sites, site), actions: canWrite ? [button('New entry', create, { kind: 'primary' })] : [] }),
    h('div', { class: 'filters' },
      control('q', 'Search', h('input', { id: 'filter-q', type: 'search', value: filters.q, placeholder: 'Title or slug', oninput: (e) => { clearTimeout(typing); typing = setTimeout(() => update('q', e.target.value), 300); } })),
      control('type', 'Type', choose('type', [['', 'All types'], ...types.map((t) => [t.apiId, t.name])])),
      control('status', 'Status', choose('status', [['', 'Any status'], ['draft', 'Draft'], ['scheduled', 'Scheduled'], ['published', 'Published'], ['archived', 'Archived']])),
      control('locale', 'Locale', choose('locale', [['', 'All locales'], ...site.locales.map((l) => [l, l])]))),
    list.el);
}

function newEntryDialog(types) {
  const { close } = modal('New entry', form([
    { name: 'type', label: 'Content type', type: 'select', options: types.map((t) => [t.apiId, t.name]), value: types.find((t) => !t.builtin)?.apiId ?? types[0]?.apiId },
  ], async ({ type }) => {
    close();
    navigate(`/content/entries/new?type=${encodeURIComponent(type)}`);
  }, { submit: 'Continue', cancel: () => close() }));
}
