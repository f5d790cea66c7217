// Where an OAuth login lands: the tokens are in the URL fragment (never sent to a server).
import { h, fill, link } from '../lib/dom.js';
import { startSession } from '../app.js';

export default async function render(view, { query }) {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const accessToken = fragment.get('accessToken');
  const refreshToken = fragment.get('refreshToken');
  history.replaceState({}, '', location.pathname + location.search);
  if (!accessToken || !refreshToken) {
    fill(view, h('div', { class: 'card' }, h('h1', {}, 'Login failed'), h('p', {}, 'The provider did not send us back with a login. Try again.'), link('/login', 'Back to log in')));
    return;
  }
  const expiresAt = Number(fragment.get('expiresAt')) * 1000 || Date.now() + 60_000;
  await startSession({ accessToken, refreshToken, expiresAt }, query.get('next') || '/');
}
