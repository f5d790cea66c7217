// Sites of the tenant: each has its own content, locales, domains and public API.
import { h } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { pageHeader, pagedTable, emptyState, button, modal, form } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';
import { splitList } from './content-common.js';

export default async function render(view) {
  const canManage = session.can('sites.manage');
  const open = (site) => { session.siteId = site.id; navigate(`/sites/${site.id}`); };
  view.append(
    pageHeader('Sites', { subtitle: 'Each site has its own entries, media, locales and public API.', actions: canManage ? [button('New site', createDialog, { kind: 'primary' })] : [] }),
    pagedTable('/v1/sites', [
      { label: 'Name', value: (s) => h('a', { href: `/sites/${s.id}`, 'data-link': true, onclick: () => { session.siteId = s.id; } }, s.name) },
      { label: 'Slug', value: (s) => h('code', {}, s.slug) },
      { label: 'Locales', value: (s) => s.locales.join(', ') },
      { label: 'Domains', value: (s) => s.domains.join(', ') || '—' },
      { label: 'Created', value: (s) => formatRelative(s.createdAt) },
    ], { onRowClick: open, empty: emptyState('No sites yet', 'A site holds content delivered to your website or app.', canManage ? button('New site', createDialog, { kind: 'primary' }) : null) }).el);
}

function createDialog() {
  const { close } = modal('New site', form([
    { name: 'name', label: 'Name', required: true, attrs: { autofocus: true } },
    { name: 'defaultLocale', label: 'Default locale', value: 'en', help: 'e.g. en, de, fr-CH' },
    { name: 'locales', label: 'Locales', value: 'en', help: 'Every language the site publishes in, separated by commas.' },
    { name: 'domains', label: 'Domains', placeholder: 'www.example.com', help: 'Optional, separated by commas.' },
    { name: 'allowedOrigins', label: 'Allowed origins', placeholder: 'https://www.example.com', help: 'Browsers on these origins may call the public API (CORS).' },
  ], async (values) => {
    const site = await post('/v1/sites', {
      name: values.name, defaultLocale: values.defaultLocale || undefined, locales: splitList(values.locales),
      domains: splitList(values.domains), allowedOrigins: splitList(values.allowedOrigins),
    });
    session.siteId = site.id;
    close();
    navigate(`/sites/${site.id}`);
  }, { submit: 'Create', cancel: () => close() }));
}
