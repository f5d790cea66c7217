// The caller's profile, password and theme; the tenant's name for owners; and, for platform
// administrators, every tenant with suspend / resume and credit grants.
import { h, fill } from '../lib/dom.js';
import { get, post, patch } from '../lib/api.js';
import { session } from '../lib/session.js';
import { refresh } from '../lib/router.js';
import { pageHeader, tabs, form, toast, pagedTable, actionButton, modal, statusBadge, confirmDialog } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';
import { applyTheme } from '../app.js';

export default async function render(view) {
  const list = [
    { id: 'profile', label: 'Profile', render: profile },
    { id: 'password', label: 'Password', render: password },
    { id: 'appearance', label: 'Appearance', render: appearance },
  ];
  if (session.can('tenant.manage')) list.push({ id: 'tenant', label: 'Tenant', render: tenant });
  if (session.isSuperadmin) list.push({ id: 'platform', label: 'Platform', render: platform });
  view.append(pageHeader('Settings'), tabs(list));
}

function profile(panel) {
  const user = session.user;
  fill(panel, h('div', { class: 'card' }, form([
    { name: 'name', label: 'Name', required: true, value: user.name },
    { name: 'email', label: 'Email', value: user.email, attrs: { readonly: true }, help: 'Your login; ask an administrator to change it.' },
    { name: 'locale', label: 'Language', value: user.locale ?? '', placeholder: 'en' },
    { name: 'avatarUrl', label: 'Avatar URL', type: 'url', value: user.avatarUrl ?? '' },
  ], async (values) => {
    await patch('/v1/auth/me', { name: values.name, locale: values.locale || null, avatarUrl: values.avatarUrl || null });
    session.setMe(await get('/v1/auth/me'));
    toast('Profile saved', 'success');
  })));
}

function password(panel) {
  fill(panel, h('div', { class: 'card' }, form([
    { name: 'currentPassword', label: 'Current password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } },
    { name: 'newPassword', label: 'New password', type: 'password', required: true, help: 'At least 10 characters.', attrs: { autocomplete: 'new-password' } },
  ], async (values, el) => {
    await post('/v1/auth/password', values);
    el.reset();
    toast('Password changed', 'success');
  }, { submit: 'Change password' })));
}

function appearance(panel) {
  const current = localStorage.getItem('lectern.theme') || 'system';
  fill(panel, h('div', { class: 'card' }, h('fieldset', { class: 'choices' }, h('legend', {}, 'Theme'),
    [['system', 'Like the system'], ['light', 'Light'], ['dark', 'Dark']].map(([value, label]) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name: 'theme', value, checked: value === current, onchange: () => { applyTheme(value); toast(`Theme: ${label.toLowerCase()}`); } }), label)))));
}

async function tenant(panel) {
  const t = await get(`/v1/tenants/${session.tenantId}`);
  fill(panel, h('div', { class: 'card' }, h('p', { class: 'small muted' }, 'Tenant id ', h('code', {}, t.id)), form([
    { name: 'name', label: 'Name', required: true, value: t.name },
    { name: 'slug', label: 'Slug', value: t.slug },
  ], async (values) => {
    await patch(`/v1/tenants/${t.id}`, values);
    session.setMe(await get('/v1/auth/me'));
    toast('Tenant saved', 'success');
    refresh();
  })));
}

function platform(panel) {
  const list = pagedTable('/v1/tenants', [
    { label: 'Tenant', value: (t) => [t.name, h('div', { class: 'small muted' }, t.slug)] },
    { label: 'Status', value: (t) => statusBadge(t.status) },
    { label: 'Created', value: (t) => formatRelative(t.createdAt) },
    { label: '', value: (t) => h('span', { class: 'row' },
      actionButton('Grant credits', () => grant(t), { kind: 'small' }),
      actionButton(t.status === 'suspended' ? 'Resume' : 'Suspend', async () => {
        const suspending = t.status !== 'suspended';
        if (suspending && !await confirmDialog('Suspend tenant', `Suspend ${t.name}? Its members and keys are refused until it is resumed.`, { confirm: 'Suspend', danger: true })) return;
        await post(`/v1/tenants/${t.id}/${suspending ? 'suspend' : 'resume'}`);
        list.refresh();
      }, { kind: 'small' })) },
  ]);
  fill(panel, h('p', { class: 'muted' }, 'Every tenant on this server (platform administrators only).'), list.el);
}

function grant(t) {
  const { close } = modal(`Grant credits to ${t.name}`, form([
    { name: 'amount', label: 'Credits', required: true, placeholder: '100', help: 'Negative with “Adjustment” to take credits back.' },
    { name: 'kind', label: 'Kind', type: 'select', value: 'grant', options: [['grant', 'Grant'], ['adjustment', 'Adjustment']] },
    { name: 'reason', label: 'Reason', required: true, placeholder: 'Welcome credits' },
  ], async (values) => {
    await post(`/v1/admin/tenants/${t.id}/credits`, values);
    close();
    toast('Credits granted', 'success');
  }, { submit: 'Grant', cancel: () => close() }));
}

