// API keys: for your own code and integrations. The secret is shown once, at creation.
import { h } from '../lib/dom.js';
import { post, del } from '../lib/api.js';
import { session } from '../lib/session.js';
import { pageHeader, pagedTable, button, actionButton, modal, form, confirmDialog, badge, emptyState, showSecret, toast } from '../lib/ui.js';
import { formatDate, formatRelative } from '../lib/format.js';

export default async function render(view) {
  let list;
  const create = () => createDialog(() => list.refresh());
  list = pagedTable('/v1/api-keys', [
    { label: 'Name', value: (k) => [k.name, k.userId ? null : h('div', { class: 'small muted' }, 'service account')] },
    { label: 'Key', value: (k) => h('code', {}, `${k.prefix}…`) },
    { label: 'Mode', value: (k) => badge(k.mode, k.mode === 'test' ? 'warn' : '') },
    { label: 'Scopes', value: (k) => h('span', { class: 'small' }, k.scopes.length > 4 ? `${k.scopes.length} permissions` : k.scopes.join(', ')) },
    { label: 'Last used', value: (k) => (k.lastUsedAt ? formatRelative(k.lastUsedAt) : 'never') },
    { label: 'Expires', value: (k) => (k.expiresAt ? formatDate(k.expiresAt, { time: false }) : 'never') },
    { label: '', value: (k) => actionButton('Revoke', async () => {
      if (!await confirmDialog('Revoke API key', `Revoke “${k.name}”? Programs using it stop working at once.`, { confirm: 'Revoke', danger: true })) return;
      await del(`/v1/api-keys/${k.id}`);
      toast('Key revoked', 'success');
      list.refresh();
    }, { kind: 'small danger' }) },
  ], { empty: emptyState('No API keys', 'Create one to call the REST API or the OpenAI-compatible endpoints from your code.', button('New API key', create, { kind: 'primary' })) });
  view.append(pageHeader('API keys', { subtitle: 'Send as `Authorization: Bearer <key>`. Test keys are metered but never charged.', actions: [button('New API key', create, { kind: 'primary' })] }), list.el);
}

function createDialog(created) {
  const mine = session.membership?.permissions ?? [];
  const scopes = h('fieldset', { class: 'choices scopes' }, h('legend', {}, 'Scopes (none checked = all of yours)'),
    mine.map((p) => h('label', { class: 'inline' }, h('input', { type: 'checkbox', value: p }), h('code', {}, p))));
  const keyForm = form([
    { name: 'name', label: 'Name', required: true, placeholder: 'CI pipeline' },
    { name: 'mode', label: 'Mode', type: 'select', value: 'live', options: [['live', 'Live: charged normally'], ['test', 'Test: metered, never charged']] },
    { name: 'expiresAt', label: 'Expires on', type: 'date', help: 'Optional.' },
    { name: 'serviceAccount', label: 'Service account (belongs to the tenant, not to you)', type: 'checkbox' },
  ], async (values) => {
    const chosen = [...scopes.querySelectorAll('input:checked')].map((i) => i.value);
    const result = await post('/v1/api-keys', {
      name: values.name, mode: values.mode, serviceAccount: values.serviceAccount,
      ...(chosen.length ? { scopes: chosen } : {}),
      ...(values.expiresAt ? { expiresAt: new Date(`${values.expiresAt}T23:59:59`).toISOString() } : {}),
    });
    close();
    created();
    showSecret(`API key “${result.name}”`, result.secret);
  }, { submit: 'Create key', cancel: () => close() });
  keyForm.insertBefore(scopes, keyForm.lastElementChild);
  const { close } = modal('New API key', keyForm, { wide: true });
}
