// Shared by the content pages: the site they work on (remembered per tenant) and its picker.
import { h } from '../lib/dom.js';
import { get, items } from '../lib/api.js';
import { session } from '../lib/session.js';
import { refresh } from '../lib/router.js';
import { emptyState } from '../lib/ui.js';

/** The tenant's sites and the current one (the remembered one, else the first). */
export async function currentSite() {
  const sites = items(await get('/v1/sites', { limit: 100 }));
  const site = sites.find((s) => s.id === session.siteId) || sites[0] || null;
  if (site) session.siteId = site.id;
  return { sites, site };
}

/** A "Site" select that switches the content pages to another site. */
export function sitePicker(sites, site) {
  if (sites.length < 2) return h('span', { class: 'muted' }, `Site: ${site.name}`);
  return h('label', { class: 'inline', for: 'site-picker' }, 'Site',
    h('select', { id: 'site-picker', onchange: (e) => { session.siteId = e.target.value; refresh(); } },
      sites.map((s) => h('option', { value: s.id, selected: s.id === site.id }, s.name))));
}

export function noSite() {
  return emptyState('No site yet', 'Entries, elements and media belong to a site. Create one first.',
    session.can('sites.manage') ? h('a', { class: 'button primary', href: '/sites', 'data-link': true }, 'Go to sites') : null);
}

/** Content types by api id (entries name their type by api id). */
export async function contentTypes() {
  return items(await get('/v1/content-types', { limit: 100 }));
}

export function splitList(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}
