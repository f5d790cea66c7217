// The link in an invitation mail: shows who invited whom, then creates the account (or joins
// with the logged-in one) and logs in.
import { h, fill } from '../lib/dom.js';
import { get, post } from '../lib/api.js';
import { form, errorBox } from '../lib/ui.js';
import { session } from '../lib/session.js';
import { startSession } from '../app.js';

export default async function render(view, { query }) {
  document.title = 'Invitation · Lectern';
  const token = query.get('token') || '';
  let invite;
  try {
    invite = await get(`/v1/auth/invites/${encodeURIComponent(token)}`);
  } catch (error) {
    fill(view, h('div', { class: 'card' }, h('h1', {}, 'Invitation'), errorBox(error), h('a', { href: '/login', 'data-link': true }, 'Log in')));
    return;
  }
  if (invite.accountExists && !session.loggedIn) {
    const back = `/accept-invite?token=${encodeURIComponent(token)}`;
    fill(view, h('div', { class: 'card' }, h('h1', {}, `Join ${invite.tenantName}`),
      h('p', {}, `${invite.email} already has an account: log in as ${invite.email} to accept the invitation as ${invite.role}.`),
      h('a', { class: 'button primary', href: `/login?next=${encodeURIComponent(back)}`, 'data-link': true }, 'Log in to accept')));
    return;
  }
  const fields = session.loggedIn ? [] : [
    { name: 'name', label: 'Your name', required: true, attrs: { autocomplete: 'name' } },
    { name: 'password', label: 'Password', type: 'password', required: true, help: 'At least 10 characters. If you already have an account, use its password.', attrs: { autocomplete: 'new-password' } },
  ];
  fill(view, h('div', { class: 'card' },
    h('h1', {}, `Join ${invite.tenantName}`),
    h('p', {}, `${invite.email} is invited as ${invite.role}.`),
    form(fields, async (values) => {
      const tokens = await post(`/v1/auth/invites/${encodeURIComponent(token)}/accept`, values);
      await startSession(tokens, '/');
    }, { submit: 'Accept invitation' })));
}
