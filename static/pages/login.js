// Password login, the buttons of the configured OAuth providers, and the way to a reset link.
import { h, fill } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { form } from '../lib/ui.js';
import { startSession } from '../app.js';

export default async function render(view, { query, setupStatus }) {
  document.title = 'Log in · Lectern';
  const next = query.get('next') || '/';
  const providers = setupStatus?.oauthProviders ?? [];
  const oauth = providers.length ? [
    h('div', { class: 'oauth-buttons' }, providers.map((p) => h('a', {
      class: 'button',
      href: `/v1/auth/oauth/${encodeURIComponent(p.id)}/start?redirectTo=${encodeURIComponent(`/auth/callback?next=${encodeURIComponent(next)}`)}`,
    }, `Continue with ${p.name}`))),
    h('div', { class: 'divider' }, 'or with your password'),
  ] : null;
  const login = form([
    { name: 'email', label: 'Email', type: 'email', required: true, attrs: { autocomplete: 'username', autofocus: true } },
    { name: 'password', label: 'Password', type: 'password', required: true, attrs: { autocomplete: 'current-password' } },
  ], async (values) => {
    const tokens = await post('/v1/auth/login', values);
    await startSession(tokens, next);
  }, { submit: 'Log in', testid: 'login-form' });
  fill(view, h('div', { class: 'card' }, h('h1', {}, 'Log in to Lectern'),
    query.get('reset') ? h('div', { class: 'alert info' }, 'Your password was changed. Log in with the new one.') : null,
    oauth, login,
    h('p', { class: 'small' }, h('a', { href: '/reset-password', 'data-link': true }, 'Forgot your password?'))));
}
