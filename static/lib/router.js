// History-API routing: `/knowledge-bases/:id` patterns, links marked `data-link`, and a
// per-page cleanup list so a page's streams stop when the user leaves it.

const routes = [];
let render = () => {};
let cleanups = [];

/** path: '/knowledge-bases/:id'; load: () => import('./pages/x.js'); options: {public, nav} */
export function route(path, load, options = {}) {
  const names = [];
  const pattern = new RegExp('^' + path.replace(/:([a-zA-Z]+)/g, (_, name) => { names.push(name); return '([^/]+)'; }) + '/?$');
  routes.push({ path, pattern, names, load, ...options });
}

export function match(pathname) {
  for (const r of routes) {
    const found = pathname.match(r.pattern);
    if (found) {
      const params = Object.fromEntries(r.names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
      return { route: r, params };
    }
  }
  return null;
}

export function onRoute(callback) { render = callback; }

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return refresh();
  history[replace ? 'replaceState' : 'pushState']({}, '', to);
  return refresh();
}

/** Runs the current page again (after a tenant switch, for example). */
export function refresh() {
  leave();
  return render(location.pathname, new URLSearchParams(location.search));
}

/** Registers work to stop when the page is left (abort a stream, clear a timer). */
export function onLeave(cleanup) { cleanups.push(cleanup); }

/** An AbortSignal that fires when the user leaves the page. */
export function pageSignal() {
  const controller = new AbortController();
  onLeave(() => controller.abort());
  return controller.signal;
}

/** Updates the query string without reloading the page (filters that survive a reload). */
export function setQuery(values) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined || value === null || value === '') params.delete(key); else params.set(key, value);
  }
  const search = params.toString();
  history.replaceState({}, '', location.pathname + (search ? `?${search}` : ''));
}

function leave() {
  const pending = cleanups;
  cleanups = [];
  for (const cleanup of pending) { try { cleanup(); } catch { /* already gone */ } }
}

window.addEventListener('popstate', () => refresh());
document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-link]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || a.target) return;
  event.preventDefault();
  navigate(a.getAttribute('href'));
});
