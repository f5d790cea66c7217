// Outbound webhook endpoints: signed POSTs of the tenant's events to your URLs.
import { h } from '../lib/dom.js';
import { get, post } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { pageHeader, pagedTable, button, modal, form, emptyState, showSecret, statusBadge } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';

export default async function render(view) {
  const types = await get('/v1/webhooks/event-types');
  const create = () => endpointDialog(types, async (body) => {
    const created = await post('/v1/webhooks', body);
    showSecret('Signing secret', created.secret, 'Verify each delivery’s Lectern-Signature header with this secret. Copy it now: it is shown only once.');
    navigate(`/webhooks/${created.id}`);
  });
  view.append(
    pageHeader('Webhooks', { subtitle: 'Lectern POSTs signed events (documents ingested, entries published, low credits…) to your endpoints and retries failures.', actions: [button('New endpoint', create, { kind: 'primary' })] }),
    pagedTable('/v1/webhooks', [
      { label: 'URL', value: (e) => [h('a', { href: `/webhooks/${e.id}`, 'data-link': true }, e.url), e.description ? h('div', { class: 'small muted' }, e.description) : null] },
      { label: 'Events', value: (e) => h('span', { class: 'small' }, e.events.join(', ')) },
      { label: 'Status', value: (e) => [statusBadge(e.active ? 'active' : 'disabled'), e.disabledReason ? h('div', { class: 'small error-text' }, e.disabledReason) : null] },
      { label: 'Failures in a row', class: 'num', value: (e) => e.consecutiveFailures },
      { label: 'Created', value: (e) => formatRelative(e.createdAt) },
    ], { onRowClick: (e) => navigate(`/webhooks/${e.id}`), empty: emptyState('No endpoints', 'Add a URL to receive events as they happen.', button('New endpoint', create, { kind: 'primary' })) }).el);
}

/** Create or edit an endpoint: URL, description, the event types as checkboxes. */
export function endpointDialog(types, save, endpoint = null) {
  const chosen = new Set(endpoint?.events ?? []);
  const events = h('fieldset', { class: 'choices' }, h('legend', {}, 'Events'), types.map((t) =>
    h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: t.type, checked: chosen.has(t.type) }), h('span', {}, h('code', {}, t.type), h('span', { class: 'small muted' }, ` ${t.description}`)))));
  const endpointForm = form([
    { name: 'url', label: 'URL', type: 'url', required: true, value: endpoint?.url, placeholder: 'https://example.com/hooks/lectern' },
    { name: 'description', label: 'Description', value: endpoint?.description ?? '' },
  ], async (values) => {
    const picked = [...events.querySelectorAll('input:checked')].map((i) => i.value);
    await save({ url: values.url, description: values.description || null, events: picked });
    close();
  }, { submit: endpoint ? 'Save' : 'Create endpoint', cancel: () => close() });
  endpointForm.insertBefore(events, endpointForm.lastElementChild);
  const { close } = modal(endpoint ? 'Edit endpoint' : 'New endpoint', endpointForm, { wide: true });
}
