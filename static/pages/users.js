// Members, invitations, groups and roles of the tenant.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, items } from '../lib/api.js';
import { session } from '../lib/session.js';
import { refresh } from '../lib/router.js';
import { pageHeader, tabs, pagedTable, button, actionButton, modal, form, confirmDialog, toast, badge, emptyState, showSecret, loading, errorBox } from '../lib/ui.js';
import { formatDate, formatRelative, humanize } from '../lib/format.js';

const ROLES = ['owner', 'admin', 'editor', 'author', 'viewer'];

export default async function render(view) {
  const [roles, sites] = await Promise.all([get('/v1/roles'), get('/v1/sites', { limit: 100 }).then(items).catch(() => [])]);
  const canManage = session.can('members.manage');
  view.append(pageHeader('Users & roles', { subtitle: 'Who may do what in this tenant.', actions: canManage ? [button('Invite', () => inviteDialog(sites), { kind: 'primary' })] : [] }),
    tabs([
      { id: 'members', label: 'Members', render: (panel) => members(panel, sites, canManage) },
      { id: 'invites', label: 'Invitations', render: (panel) => invites(panel, sites, canManage) },
      { id: 'groups', label: 'Groups', render: (panel) => groups(panel, sites, canManage) },
      { id: 'roles', label: 'Roles', render: (panel) => roleMatrix(panel, roles) },
    ]));
}

const siteNames = (sites, ids) => (ids ? ids.map((id) => sites.find((s) => s.id === id)?.name ?? 'unknown site').join(', ') : 'All sites');

function roleSelect(value, onchange, { id, disabled } = {}) {
  return h('select', { id, disabled, onchange: (e) => onchange(e.target.value) }, ROLES.map((r) => h('option', { value: r, selected: r === value }, humanize(r))));
}

function members(panel, sites, canManage) {
  const list = pagedTable('/v1/members', [
    { label: 'Name', value: (m) => [m.name, h('div', { class: 'small muted' }, m.email)] },
    { label: 'Role', value: (m) => canManage && m.userId !== session.user.id
      ? roleSelect(m.role, async (role) => { try { await patch(`/v1/members/${m.userId}`, { role }); toast(`${m.name} is now ${role}`, 'success'); } catch (e) { toast(e.message, 'error'); list.refresh(); } }, { id: `role-${m.userId}` })
      : badge(m.role) },
    { label: 'Sites', value: (m) => siteNames(sites, m.siteIds) },
    { label: 'Joined', value: (m) => formatRelative(m.joinedAt) },
    { label: '', value: (m) => canManage && m.userId !== session.user.id ? h('span', { class: 'row' },
      button('Sites…', () => sitesDialog(m, sites, list), { kind: 'small' }),
      actionButton('Remove', async () => {
        if (!await confirmDialog('Remove member', `Remove ${m.name} from this tenant? Their API keys stop working.`, { confirm: 'Remove', danger: true })) return;
        await del(`/v1/members/${m.userId}`);
        list.refresh();
      }, { kind: 'small danger' })) : null },
  ]);
  fill(panel, list.el);
}

function sitesDialog(member, sites, list) {
  const all = member.siteIds === null || member.siteIds === undefined;
  const boxes = sites.map((s) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: s.id, checked: !all && member.siteIds.includes(s.id) }), s.name));
  const { close } = modal(`Sites of ${member.name}`, [
    h('p', { class: 'small muted' }, 'Leave all unchecked to allow every site.'), h('div', { class: 'choices' }, boxes),
    h('div', { class: 'row end' }, actionButton('Save', async () => {
      const ids = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      await patch(`/v1/members/${member.userId}`, { siteIds: ids.length ? ids : null });
      close();
      list.refresh();
    }, { kind: 'primary' }))]);
}

function invites(panel, sites, canManage) {
  const list = pagedTable('/v1/invites', [
    { label: 'Email', value: (i) => i.email },
    { label: 'Role', value: (i) => badge(i.role) },
    { label: 'Sites', value: (i) => siteNames(sites, i.siteIds) },
    { label: 'Expires', value: (i) => formatDate(i.expiresAt) },
    { label: '', value: (i) => canManage ? actionButton('Revoke', async () => { await del(`/v1/invites/${i.id}`); list.refresh(); }, { kind: 'small danger' }) : null },
  ], { empty: emptyState('No pending invitations', 'Invite people by email; they choose their password when they accept.') });
  fill(panel, list.el);
}

function inviteDialog(sites) {
  const { close } = modal('Invite someone', form([
    { name: 'email', label: 'Email', type: 'email', required: true },
    { name: 'role', label: 'Role', type: 'select', value: 'editor', options: ROLES.map((r) => [r, humanize(r)]) },
    ...(sites.length ? [{ name: 'site', label: 'Limit to site', type: 'select', options: [['', 'All sites'], ...sites.map((s) => [s.id, s.name])] }] : []),
  ], async (values) => {
    const created = await post('/v1/invites', { email: values.email, role: values.role, ...(values.site ? { siteIds: [values.site] } : {}) });
    close();
    showSecret('Invitation sent', created.acceptUrl, `${values.email} got an email with this link. You can also pass it on yourself:`);
    refresh();
  }, { submit: 'Send invitation', cancel: () => close() }));
}

async function groups(panel, sites, canManage) {
  fill(panel, loading());
  try {
    const [list, people] = await Promise.all([get('/v1/groups', { limit: 100 }).then(items), get('/v1/members', { limit: 100 }).then(items)]);
    const name = (id) => people.find((p) => p.userId === id)?.name ?? 'former member';
    fill(panel,
      canManage ? h('div', { class: 'row end' }, button('New group', () => groupDialog(sites), { kind: 'primary' })) : null,
      list.length ? list.map((g) => h('div', { class: 'card' },
        h('div', { class: 'row spread' }, h('h3', {}, g.name), h('span', { class: 'row' }, badge(g.role), h('span', { class: 'small muted' }, siteNames(sites, g.siteIds)))),
        h('p', {}, g.memberIds.length ? g.memberIds.map((id) => h('span', { class: 'badge' }, name(id), canManage ? h('button', { class: 'icon small', 'aria-label': `Remove ${name(id)}`, onclick: async () => { await del(`/v1/groups/${g.id}/members/${id}`); groups(panel, sites, canManage); } }, '×') : null)) : h('span', { class: 'muted' }, 'No members')),
        canManage ? h('div', { class: 'row' },
          h('select', { 'aria-label': `Add a member to ${g.name}`, onchange: async (e) => { if (!e.target.value) return; try { await post(`/v1/groups/${g.id}/members`, { userId: e.target.value }); groups(panel, sites, canManage); } catch (err) { toast(err.message, 'error'); } } },
            h('option', { value: '' }, 'Add member…'), people.filter((p) => !g.memberIds.includes(p.userId)).map((p) => h('option', { value: p.userId }, p.name))),
          actionButton('Delete group', async () => { if (await confirmDialog('Delete group', `Delete ${g.name}? Members keep their own roles.`, { danger: true, confirm: 'Delete' })) { await del(`/v1/groups/${g.id}`); groups(panel, sites, canManage); } }, { kind: 'small danger' })) : null))
        : emptyState('No groups', 'Groups give several people the same role and sites at once.'));
  } catch (error) { fill(panel, errorBox(error)); }
}

function groupDialog(sites) {
  const { close } = modal('New group', form([
    { name: 'name', label: 'Name', required: true },
    { name: 'role', label: 'Role', type: 'select', value: 'editor', options: ROLES.filter((r) => r !== 'owner').map((r) => [r, humanize(r)]) },
    ...(sites.length ? [{ name: 'site', label: 'Limit to site', type: 'select', options: [['', 'All sites'], ...sites.map((s) => [s.id, s.name])] }] : []),
  ], async (values) => {
    await post('/v1/groups', { name: values.name, role: values.role, ...(values.site ? { siteIds: [values.site] } : {}) });
    close();
    refresh();
  }, { submit: 'Create', cancel: () => close() }));
}

function roleMatrix(panel, roles) {
  const permissions = [...new Set(roles.flatMap((r) => r.permissions))];
  fill(panel, h('div', { class: 'table-wrap' }, h('table', { class: 'matrix' },
    h('caption', { class: 'sr-only' }, 'Permissions of each role'),
    h('thead', {}, h('tr', {}, h('th', {}, 'Permission'), roles.map((r) => h('th', { title: r.description }, humanize(r.role))))),
    h('tbody', {}, permissions.map((p) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, p)), roles.map((r) => h('td', { class: 'center' }, r.permissions.includes(p) ? h('span', { 'aria-label': 'yes' }, '✓') : h('span', { 'aria-label': 'no', class: 'muted' }, '—')))))))),
  h('ul', { class: 'small' }, roles.map((r) => h('li', {}, h('strong', {}, humanize(r.role)), `: ${r.description}`))));
}
