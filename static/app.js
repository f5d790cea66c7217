// The dashboard's shell: start-up (first-run setup, restoring the login), the navigation, the
// tenant switcher and theme, and the routes. Every page lives in pages/ and uses only the REST API.

import { h, fill, link, append } from './lib/dom.js';
import { get, post, whenSessionExpires } from './lib/api.js';
import { session } from './lib/session.js';
import { route, match, onRoute, navigate, refresh } from './lib/router.js';
import { errorBox, loading, toastError } from './lib/ui.js';

const page = (name) => () => import(`./pages/${name}.js`);

// Pages anyone may open; every other page needs a login.
route('/setup', page('setup'), { public: true });
route('/login', page('login'), { public: true });
route('/reset-password', page('reset-password'), { public: true });
route('/accept-invite', page('accept-invite'), { public: true });
route('/auth/callback', page('oauth-callback'), { public: true });

route('/', page('home'));
route('/knowledge-bases', page('knowledge-bases'), { section: 'knowledge' });
route('/knowledge-bases/:id', page('knowledge-base'), { section: 'knowledge' });
route('/knowledge-bases/:id/documents/:doc', page('document'), { section: 'knowledge' });
route('/search', page('search'), { section: 'search' });
route('/chat', page('chat'), { section: 'chat' });
route('/chat/:id', page('chat'), { section: 'chat' });
route('/analysis', page('analysis'), { section: 'analysis' });
route('/sites', page('sites'), { section: 'sites' });
route('/sites/:id', page('site'), { section: 'sites' });
route('/content/types', page('content-types'), { section: 'types' });
route('/content/types/:id', page('content-type'), { section: 'types' });
route('/content/entries', page('entries'), { section: 'entries' });
route('/content/entries/:id', page('entry'), { section: 'entries' });
route('/content/elements', page('elements'), { section: 'elements' });
route('/media', page('media'), { section: 'media' });
route('/users', page('users'), { section: 'users' });
route('/api-keys', page('api-keys'), { section: 'api-keys' });
route('/webhooks', page('webhooks'), { section: 'webhooks' });
route('/webhooks/:id', page('webhook'), { section: 'webhooks' });
route('/billing', page('billing'), { section: 'billing' });
route('/audit', page('audit'), { section: 'audit' });
route('/settings', page('settings'), { section: 'settings' });

// The sidebar, grouped; an item shows when the caller has its permission in this tenant.
const NAV = [
  ['Knowledge', [
    ['knowledge', '/knowledge-bases', 'Knowledge bases', 'kb.read'],
    ['search', '/search', 'Search', 'kb.read'],
    ['chat', '/chat', 'Chat', 'chat.use'],
    ['analysis', '/analysis', 'Analysis', 'analysis.run'],
  ]],
  ['Content', [
    ['sites', '/sites', 'Sites', 'sites.read'],
    ['entries', '/content/entries', 'Entries', 'content.read'],
    ['types', '/content/types', 'Content types', 'content.read'],
    ['elements', '/content/elements', 'Elements', 'content.read'],
    ['media', '/media', 'Media', 'media.read'],
  ]],
  ['Administration', [
    ['users', '/users', 'Users & roles', 'members.read'],
    ['api-keys', '/api-keys', 'API keys', 'api_keys.manage'],
    ['webhooks', '/webhooks', 'Webhooks', 'webhooks.manage'],
    ['billing', '/billing', 'Billing', 'billing.read'],
    ['audit', '/audit', 'Audit log', 'audit.read'],
    ['settings', '/settings', 'Settings', null],
  ]],
];

const root = document.getElementById('app');
let shell = null; // {nav, main, tenantSelect}
let setupStatus = null;

applyTheme(localStorage.getItem('lectern.theme') || 'system');
whenSessionExpires(() => {
  if (!match(location.pathname)?.route.public) navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

onRoute(async (pathname, query) => {
  const found = match(pathname);
  if (!found) return show(null, () => notFound(pathname));
  if (!setupStatus) {
    try {
      setupStatus = await get('/v1/auth/setup-status');
    } catch (error) {
      return fill(root, h('main', { class: 'auth-page' }, h('div', { class: 'card' }, h('h1', {}, 'Lectern'), errorBox(error),
        h('button', { onclick: () => location.reload() }, 'Try again'))));
    }
  }
  if (!setupStatus.bootstrapped && pathname !== '/setup') return navigate('/setup', { replace: true });
  if (!found.route.public) {
    if (!session.loggedIn) return navigate(`/login?next=${encodeURIComponent(pathname + location.search)}`, { replace: true });
    if (!session.me) {
      try {
        session.setMe(await get('/v1/auth/me'));
      } catch (error) {
        if (!session.loggedIn) return undefined; // expired: whenSessionExpires moved us to the login page
        return fill(root, h('main', { class: 'auth-page' }, h('div', { class: 'card' }, errorBox(error))));
      }
    }
  }
  return show(found, async (view) => {
    const module = await found.route.load();
    await module.default(view, { params: found.params, query, setupStatus });
  });
});

let shown = 0; // the latest navigation: a slower page that finishes later must not replace it

async function show(found, run) {
  const ticket = ++shown;
  const isPublic = !found || found.route.public;
  let view;
  if (isPublic && !session.me) {
    shell = null;
    view = h('main', { class: 'auth-page', id: 'main' });
    fill(root, view);
  } else {
    view = layout(found?.route.section);
  }
  fill(view, loading());
  try {
    const staging = h('div', { class: 'page' });
    // Pages append optional parts as `cond ? el : null`: skip the nulls (the DOM's own append
    // would print "null").
    staging.append = (...children) => append(staging, children);
    await run(staging);
    if (ticket !== shown) return;
    fill(view, staging);
  } catch (error) {
    if (error?.name === 'AbortError' || ticket !== shown) return;
    console.error(error);
    fill(view, errorBox(error));
  }
  const heading = view.querySelector('h1');
  if (heading && document.activeElement === document.body) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
}

function notFound(pathname) {
  return (view) => fill(view, h('div', { class: 'empty' }, h('h1', {}, 'Page not found'), h('p', { class: 'muted' }, `Nothing lives at ${pathname}.`), link('/', 'Go to the overview')));
}

// ---- Layout ---------------------------------------------------------------------------------

function layout(section) {
  if (!shell) {
    const main = h('main', { id: 'main', class: 'content' });
    const nav = h('nav', { class: 'sidebar', 'aria-label': 'Main' });
    const tenantSelect = h('select', { 'aria-label': 'Tenant', 'data-testid': 'tenant-switcher', onchange: (e) => switchTenant(e.target.value) });
    const menuButton = h('button', { class: 'icon menu-toggle', 'aria-label': 'Menu', 'aria-expanded': 'false', onclick: () => {
      const open = document.body.classList.toggle('nav-open');
      menuButton.setAttribute('aria-expanded', String(open));
    } }, '☰');
    const top = h('header', { class: 'topbar' },
      menuButton,
      link('/', h('span', { class: 'brand' }, 'Lectern')),
      h('div', { class: 'spacer' }),
      tenantSelect,
      themeButton(),
      h('span', { class: 'muted user-name' }, session.user?.name || ''),
      h('button', { onclick: logout }, 'Log out'));
    fill(root, h('a', { class: 'skip', href: '#main' }, 'Skip to content'), top, h('div', { class: 'frame' }, nav, main));
    shell = { nav, main, tenantSelect };
  }
  fill(shell.tenantSelect, session.me.memberships.map((m) =>
    h('option', { value: m.tenantId, selected: m.tenantId === session.tenantId }, `${m.tenantName} (${m.role})`)));
  shell.tenantSelect.hidden = session.me.memberships.length < 2;
  const item = (id, href, label) => h('a', { href, 'data-link': true, 'aria-current': id === section ? 'page' : false, class: id === section ? 'active' : '' }, label);
  fill(shell.nav, item(undefined, '/', 'Overview'), NAV.map(([group, items]) => {
    const visible = items.filter(([, , , permission]) => !permission || session.can(permission));
    if (!visible.length) return null;
    return h('div', { class: 'nav-group' }, h('h2', {}, group), visible.map(([id, href, label]) => item(id, href, label)));
  }));
  document.body.classList.remove('nav-open');
  return shell.main;
}

async function switchTenant(tenantId) {
  session.setTenant(tenantId);
  // Ids on the current page belong to the old tenant: go to the section's list instead.
  const found = match(location.pathname);
  const list = NAV.flatMap(([, items]) => items).find(([id]) => id === found?.route.section);
  if (found && Object.keys(found.params).length) navigate(list ? list[1] : '/');
  else refresh();
}

async function logout() {
  try { await post('/v1/auth/logout'); } catch (error) { if (error.status !== 401) toastError(error); }
  session.clear();
  shell = null;
  navigate('/login');
}

// ---- Theme ----------------------------------------------------------------------------------

function themeButton() {
  const labels = { system: 'Theme: system', light: 'Theme: light', dark: 'Theme: dark' };
  const icons = { system: '◐', light: '☀', dark: '☾' };
  const label = h('span', { class: 'label' });
  const icon = h('span', { 'aria-hidden': 'true' });
  const show = (theme) => { fill(icon, icons[theme]); fill(label, labels[theme]); el.title = labels[theme]; el.setAttribute('aria-label', labels[theme]); };
  const el = h('button', { class: 'theme-toggle', 'data-testid': 'theme-toggle', onclick: () => {
    const order = ['system', 'light', 'dark'];
    const next = order[(order.indexOf(localStorage.getItem('lectern.theme') || 'system') + 1) % order.length];
    applyTheme(next);
    show(next);
  } }, icon, ' ', label);
  show(localStorage.getItem('lectern.theme') || 'system');
  return el;
}

export function applyTheme(theme) {
  localStorage.setItem('lectern.theme', theme);
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

/** After login or setup: remember the tokens, load the profile and go on. */
export async function startSession(tokens, next = '/') {
  session.setTokens(tokens);
  session.me = null;
  shell = null;
  setupStatus = null;
  await navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
}

refresh().catch(toastError);
