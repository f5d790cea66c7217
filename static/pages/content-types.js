// Content types of the tenant: the built-in post and page, and the tenant's own.
import { h } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { pageHeader, pagedTable, emptyState, button, modal, form, badge } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';

export default async function render(view) {
  const canManage = session.can('content_types.manage');
  view.append(
    pageHeader('Content types', { subtitle: 'The shape of your entries: which fields they have and how they are checked.', actions: canManage ? [button('New content type', createDialog, { kind: 'primary' })] : [] }),
    pagedTable('/v1/content-types', [
      { label: 'Name', value: (t) => h('a', { href: `/content/types/${t.id}`, 'data-link': true }, t.name) },
      { label: 'API id', value: (t) => h('code', {}, t.apiId) },
      { label: 'Fields', class: 'num', value: (t) => t.fields.length },
      { label: '', value: (t) => (t.builtin ? badge('built-in') : null) },
      { label: 'Updated', value: (t) => formatRelative(t.updatedAt) },
    ], { limit: 100, onRowClick: (t) => navigate(`/content/types/${t.id}`), empty: emptyState('No content types', 'Define one to start writing entries.') }).el);
}

function createDialog() {
  const { close } = modal('New content type', form([
    { name: 'name', label: 'Name', required: true, attrs: { autofocus: true }, placeholder: 'Article' },
    { name: 'apiId', label: 'API id', placeholder: 'from the name', help: 'Lower-case letters, digits and hyphens; how the API and entries name this type.' },
    { name: 'description', label: 'Description', type: 'textarea', rows: 2 },
  ], async (values) => {
    const type = await post('/v1/content-types', { name: values.name, apiId: values.apiId || undefined, description: values.description, fields: [] });
    close();
    navigate(`/content/types/${type.id}`);
  }, { submit: 'Create', cancel: () => close() }));
}
