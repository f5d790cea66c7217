// Without a token: ask for a reset link by mail. With ?token= (the link in the mail): set a new password.
import { h, fill } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { form } from '../lib/ui.js';
import { navigate } from '../lib/router.js';

export default async function render(view, { query }) {
  document.title = 'Reset password · Lectern';
  const token = query.get('token');
  const card = h('div', { class: 'card' });
  if (token) {
    fill(card, h('h1', {}, 'Choose a new password'), form([
      { name: 'password', label: 'New password', type: 'password', required: true, help: 'At least 10 characters.', attrs: { autocomplete: 'new-password' } },
    ], async ({ password }) => {
      await post('/v1/auth/password-reset/confirm', { token, password });
      navigate('/login?reset=1', { replace: true });
    }, { submit: 'Set password' }));
  } else {
    const done = h('div');
    fill(card, h('h1', {}, 'Reset your password'), h('p', { class: 'muted' }, 'We will mail you a link to choose a new one.'), done, form([
      { name: 'email', label: 'Email', type: 'email', required: true, attrs: { autocomplete: 'email' } },
    ], async ({ email }) => {
      await post('/v1/auth/password-reset', { email });
      fill(done, h('div', { class: 'alert info', role: 'status' }, `If ${email} has an account, a link is on its way. It is valid for a short time.`));
    }, { submit: 'Send link' }));
  }
  card.append(h('p', { class: 'small' }, h('a', { href: '/login', 'data-link': true }, 'Back to log in')));
  fill(view, card);
}
