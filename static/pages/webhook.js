// One webhook endpoint: settings, secret rotation, a test event, and its deliveries with replay.
import { h } from '../lib/dom.js';
import { get, post, patch, del } from '../lib/api.js';
import { navigate, refresh } from '../lib/router.js';
import { pageHeader, pagedTable, button, actionButton, modal, confirmDialog, toast, showSecret, statusBadge, select, emptyState, stats } from '../lib/ui.js';
import { formatDate } from '../lib/format.js';
import { endpointDialog } from './webhooks.js';

export default async function render(view, { params }) {
  const [endpoint, types] = await Promise.all([get(`/v1/webhooks/${params.id}`), get('/v1/webhooks/event-types')]);
  const base = `/v1/webhooks/${endpoint.id}`;
  const filters = { status: '', eventType: '' };
  const deliveries = pagedTable(`${base}/deliveries`, [
    { label: 'When', value: (d) => formatDate(d.createdAt) },
    { label: 'Event', value: (d) => [h('code', {}, d.eventType), d.replayOf ? h('div', { class: 'small muted' }, 'replay') : null] },
    { label: 'Status', value: (d) => statusBadge(d.status) },
    { label: 'Attempts', class: 'num', value: (d) => d.attempts },
    { label: 'Answer', value: (d) => (d.responseStatus ? `HTTP ${d.responseStatus}` : d.error ? h('span', { class: 'small error-text' }, d.error) : '—') },
    { label: 'Latency', class: 'num', value: (d) => (d.latencyMs !== null && d.latencyMs !== undefined ? `${d.latencyMs} ms` : '—') },
    { label: 'Next attempt', value: (d) => (d.nextAttemptAt ? formatDate(d.nextAttemptAt) : '—') },
    { label: '', value: (d) => h('span', { class: 'row' },
      button('Details', () => details(d), { kind: 'small' }),
      actionButton('Replay', async () => { await post(`${base}/deliveries/${d.id}/replay`); toast('Replay queued', 'success'); deliveries.refresh(); }, { kind: 'small' })) },
  ], { empty: emptyState('No deliveries yet', 'Send a test event, or wait for the first real one.') });
  const filter = (name, label, options) => select(label, options, '', (value) => { filters[name] = value; deliveries.reload({ ...filters }); });
  view.append(
    pageHeader(endpoint.url, { subtitle: endpoint.description || 'Webhook endpoint', actions: [
      actionButton('Send test event', async () => { await post(`${base}/test`); toast('Test event queued', 'success'); setTimeout(() => deliveries.refresh(), 1500); }, { kind: 'primary' }),
      button('Edit', () => endpointDialog(types, async (body) => { await patch(base, body); toast('Saved', 'success'); refresh(); }, endpoint)),
      actionButton(endpoint.active ? 'Disable' : 'Enable', async () => { await patch(base, { active: !endpoint.active }); refresh(); }),
      actionButton('Rotate secret', async () => {
        if (!await confirmDialog('Rotate secret', 'Create a new signing secret? Deliveries are signed with the new one at once; update your receiver.', { confirm: 'Rotate' })) return;
        const rotated = await post(`${base}/rotate-secret`);
        showSecret('New signing secret', rotated.secret);
      }),
      actionButton('Delete', async () => {
        if (!await confirmDialog('Delete endpoint', 'Stop sending events to this URL and delete its delivery history?', { confirm: 'Delete', danger: true })) return;
        await del(base);
        navigate('/webhooks');
      }, { kind: 'danger' })] }),
    endpoint.active ? null : h('div', { class: 'alert warn', role: 'alert' }, `Disabled${endpoint.disabledReason ? `: ${endpoint.disabledReason}` : ''}. Enable it to resume deliveries.`),
    stats([
      { label: 'Status', value: endpoint.active ? 'Active' : 'Disabled' },
      { label: 'Events', value: String(endpoint.events.length), hint: endpoint.events.join(', ') },
      { label: 'Failures in a row', value: String(endpoint.consecutiveFailures) },
    ]),
    h('div', { class: 'row spread' }, h('h2', {}, 'Deliveries'), h('div', { class: 'row' },
      filter('status', 'Status', [['', 'Any'], ['pending', 'Pending'], ['succeeded', 'Succeeded'], ['failed', 'Failed']]),
      filter('eventType', 'Event', [['', 'Any'], ...types.map((t) => [t.type, t.type])]),
      button('Refresh', () => deliveries.refresh()))),
    deliveries.el);
}

function details(d) {
  modal(`Delivery ${d.id.slice(0, 8)}`, [
    h('dl', { class: 'facts' },
      h('dt', {}, 'Event'), h('dd', {}, h('code', {}, d.eventType), ` · ${d.eventId}`),
      h('dt', {}, 'Status'), h('dd', {}, statusBadge(d.status), ` after ${d.attempts} attempt(s)`),
      h('dt', {}, 'Answer'), h('dd', {}, d.responseStatus ? `HTTP ${d.responseStatus}` : '—', d.latencyMs !== null && d.latencyMs !== undefined ? ` in ${d.latencyMs} ms` : ''),
      d.error ? [h('dt', {}, 'Error'), h('dd', { class: 'error-text' }, d.error)] : null),
    d.responseBody ? [h('h3', {}, 'Response (first 1 KB)'), h('pre', {}, d.responseBody)] : null,
  ], { wide: true });
}

