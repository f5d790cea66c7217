// Reusable elements of the current site (banners, calls to action, FAQs): JSON blocks that
// entries embed; edited here with where each is used.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del } from '../lib/api.js';
import { session } from '../lib/session.js';
import { pageHeader, pagedTable, button, actionButton, modal, form, confirmDialog, toast, emptyState, badge } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';
import { currentSite, sitePicker, noSite } from './content-common.js';

export default async function render(view) {
  const { sites, site } = await currentSite();
  if (!site) { view.append(pageHeader('Elements'), noSite()); return; }
  const base = `/v1/sites/${site.id}/elements`;
  const canWrite = session.can('content.write');
  let list;
  const edit = (element) => editor(base, element, () => list.refresh());
  list = pagedTable(base, [
    { label: 'Name', value: (e) => e.name },
    { label: 'Kind', value: (e) => badge(e.kind) },
    { label: 'Fields', value: (e) => h('span', { class: 'small' }, Object.keys(e.data || {}).join(', ') || '—') },
    { label: 'Updated', value: (e) => formatRelative(e.updatedAt) },
  ], { onRowClick: edit, empty: emptyState('No elements', 'Elements are blocks (a banner, a call to action) that several entries share.', canWrite ? button('New element', () => edit(null), { kind: 'primary' }) : null) });
  view.append(pageHeader('Elements', { subtitle: sitePicker(sites, site), actions: canWrite ? [button('New element', () => edit(null), { kind: 'primary' })] : [] }), list.el);
}

function editor(base, element, changed) {
  const usage = h('p', { class: 'small muted' });
  if (element) get(`${base}/${element.id}/usage`).then((u) => fill(usage, u.entries?.length ? `Used by ${u.entries.map((e) => e.title).join(', ')}` : 'Not used by any entry.')).catch(() => {});
  const { close } = modal(element ? element.name : 'New element', [usage, form([
    { name: 'name', label: 'Name', required: true, value: element?.name },
    { name: 'kind', label: 'Kind', required: true, value: element?.kind, placeholder: 'banner', help: 'What your front end renders it as: letters, digits, - and _.' },
    { name: 'data', label: 'Content (JSON object)', type: 'textarea', rows: 10, value: JSON.stringify(element?.data ?? { title: '', text: '' }, null, 2) },
  ], async (values) => {
    let data;
    try { data = JSON.parse(values.data || '{}'); } catch (e) { throw Object.assign(new Error(`Content is not valid JSON: ${e.message}`), { fieldMessage: (f) => (f === 'data' ? `not valid JSON: ${e.message}` : null) }); }
    const body = { name: values.name, kind: values.kind, data };
    if (element) await patch(`${base}/${element.id}`, body); else await post(base, body);
    toast('Element saved', 'success');
    close();
    changed();
  }, { submit: 'Save', cancel: () => close() }),
  element && session.can('content.write') ? h('div', { class: 'row end' }, actionButton('Delete', async () => {
    if (!await confirmDialog('Delete element', `Delete ${element.name}?`, { confirm: 'Delete', danger: true })) return;
    await del(`${base}/${element.id}`);
    close();
    changed();
  }, { kind: 'danger' })) : null], { wide: true });
}
