// One site: settings, statistics (views per day, top entries), search analytics (what visitors
// look for and do not find) and contact form submissions.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate, setQuery } from '../lib/router.js';
import { pageHeader, tabs, form, stats, select, errorBox, loading, emptyState, pagedTable, actionButton, confirmDialog, toast, statusBadge, button } from '../lib/ui.js';
import { barChart, barList } from '../lib/chart.js';
import { formatDate, formatNumber } from '../lib/format.js';
import { splitList } from './content-common.js';
import { followJob } from './knowledge-common.js';

const PERIODS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']];

export default async function render(view, { params, query }) {
  const site = await get(`/v1/sites/${params.id}`);
  session.siteId = site.id;
  const base = `/v1/sites/${site.id}`;
  const canManage = session.can('sites.manage');
  const list = [
    { id: 'stats', label: 'Statistics', render: (panel) => statistics(panel, base, query) },
    { id: 'search', label: 'Search analytics', render: (panel) => searchAnalytics(panel, base, query) },
    { id: 'contact', label: 'Contact submissions', render: (panel) => contact(panel, base) },
    { id: 'settings', label: 'Settings', render: (panel) => settings(panel, site, canManage) },
  ];
  view.append(
    pageHeader(site.name, { subtitle: `/${site.slug} · ${site.locales.join(', ')}`, actions: [
      h('a', { class: 'button', href: '/content/entries', 'data-link': true }, 'Entries'),
      canManage ? actionButton('Reindex site search', async () => {
        const job = await post(`${base}/search/reindex`);
        toast('Reindexing the site search…');
        if (job?.id) followJob(job.id, (j) => { if (j.status === 'succeeded') toast('Site search reindexed', 'success'); });
      }) : null,
    ] }),
    tabs(list, { selected: query.get('tab') || 'stats' }));
}

function period(days) {
  const to = new Date();
  const from = new Date(to.getTime() - (Number(days) - 1) * 86_400_000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

function periodPicker(days, onChange) {
  return select('Period', PERIODS, days, (value) => { setQuery({ days: value }); onChange(value); });
}

async function statistics(panel, base, query) {
  const body = h('div');
  const load = async (days) => {
    fill(body, loading());
    try {
      const s = await get(`${base}/stats`, period(days));
      const trend = s.viewsTrendPercent === null || s.viewsTrendPercent === undefined ? 'no earlier data' : `${s.viewsTrendPercent > 0 ? '+' : ''}${formatNumber(s.viewsTrendPercent, 1)} % vs previous period`;
      fill(body,
        stats([
          { label: 'Views', value: formatNumber(s.totals.views), hint: trend },
          { label: 'Searches', value: formatNumber(s.totals.searches), hint: `${formatNumber(s.totals.zeroResultSearches)} without results` },
          { label: 'Result clicks', value: formatNumber(s.totals.clicks) },
          { label: 'Entries', value: formatNumber(s.publishedEntries), hint: `${formatNumber(s.draftEntries)} drafts` },
        ]),
        h('div', { class: 'card' }, h('h3', {}, 'Views and searches per day'),
          barChart({ labels: s.days.map((d) => d.day), series: [{ name: 'Views', values: s.days.map((d) => d.views) }, { name: 'Searches', values: s.days.map((d) => d.searches) }], title: 'Views and searches per day' })),
        h('div', { class: 'card' }, h('h3', {}, 'Most viewed entries'),
          s.topEntries.length ? barList(s.topEntries.map((e) => ({ label: e.title, value: e.views }))) : h('p', { class: 'muted' }, 'No views yet. Visitors are counted when your site calls POST /public/v1/sites/{site}/views.')));
    } catch (error) { fill(body, errorBox(error)); }
  };
  const days = query.get('days') || '30';
  fill(panel, h('div', { class: 'row end' }, periodPicker(days, load)), body);
  await load(days);
}

async function searchAnalytics(panel, base, query) {
  const body = h('div');
  const load = async (days) => {
    fill(body, loading());
    try {
      const a = await get(`${base}/search/analytics`, period(days));
      const queries = (rows, empty) => rows.length ? h('div', { class: 'table-wrap' }, h('table', {},
        h('thead', {}, h('tr', {}, ['Query', 'Searches', 'No results', 'Clicks', 'Click-through'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
        h('tbody', {}, rows.map((q) => h('tr', {}, h('td', {}, q.query), h('td', { class: 'num' }, formatNumber(q.searches)), h('td', { class: 'num' }, formatNumber(q.zeroResults)),
          h('td', { class: 'num' }, formatNumber(q.clicks)), h('td', { class: 'num' }, `${formatNumber(q.clickThrough * 100, 0)} %`)))))) : h('p', { class: 'muted' }, empty);
      fill(body,
        h('div', { class: 'card' }, h('h3', {}, 'Searches per day'),
          barChart({ labels: a.days.map((d) => d.day), series: [{ name: 'With results', values: a.days.map((d) => d.searches - d.zeroResults) }, { name: 'No results', values: a.days.map((d) => d.zeroResults) }], title: 'Searches per day' })),
        h('h3', {}, 'Top queries'), queries(a.topQueries, 'No searches in this period.'),
        h('h3', {}, 'Queries without results'), h('p', { class: 'small muted' }, 'What visitors look for and your content does not answer yet.'),
        queries(a.zeroResultQueries, 'Every search found something.'));
    } catch (error) { fill(body, errorBox(error)); }
  };
  const days = query.get('days') || '30';
  fill(panel, h('div', { class: 'row end' }, periodPicker(days, load)), body);
  await load(days);
}

function contact(panel, base) {
  const table = pagedTable(`${base}/contact-submissions`, [
    { label: 'Received', value: (c) => formatDate(c.createdAt) },
    { label: 'From', value: (c) => [c.name || '', h('div', { class: 'small' }, h('a', { href: `mailto:${c.email}` }, c.email))] },
    { label: 'Message', value: (c) => [c.subject ? h('strong', {}, c.subject) : null, h('div', { class: 'small pre' }, c.message)] },
    { label: 'Status', value: (c) => statusBadge(c.status) },
    { label: '', value: (c) => session.can('content.write') ? button(c.status === 'new' ? 'Mark handled' : 'Reopen', async () => {
      await patch(`${base}/contact-submissions/${c.id}`, { status: c.status === 'new' ? 'handled' : 'new' });
      table.refresh();
    }, { kind: 'small' }) : null },
  ], { empty: emptyState('No submissions', 'Messages sent through POST /public/v1/sites/{site}/contact arrive here.') });
  fill(panel, table.el);
}

function settings(panel, site, canManage) {
  const publicBase = `${location.origin}/public/v1/sites/${site.slug}`;
  fill(panel,
    h('div', { class: 'card' }, h('h3', {}, 'Public API'),
      h('p', { class: 'small muted' }, 'Published entries, media and search for visitors, without a key:'),
      h('ul', { class: 'small' }, [`${publicBase}/entries?locale=${site.defaultLocale}`, `${publicBase}/search?q=…`, `${publicBase}/suggest?q=…`].map((u) => h('li', {}, h('code', {}, u))))),
    canManage ? h('div', { class: 'card' }, h('h3', {}, 'Settings'), form([
      { name: 'name', label: 'Name', required: true, value: site.name },
      { name: 'slug', label: 'Slug', value: site.slug, help: 'Used in public API URLs.' },
      { name: 'defaultLocale', label: 'Default locale', value: site.defaultLocale },
      { name: 'locales', label: 'Locales', value: site.locales.join(', ') },
      { name: 'domains', label: 'Domains', value: site.domains.join(', ') },
      { name: 'allowedOrigins', label: 'Allowed origins', value: site.allowedOrigins.join(', ') },
    ], async (values) => {
      await patch(`/v1/sites/${site.id}`, { ...values, locales: splitList(values.locales), domains: splitList(values.domains), allowedOrigins: splitList(values.allowedOrigins) });
      toast('Site saved', 'success');
      navigate(`/sites/${site.id}?tab=settings`);
    })) : null,
    canManage ? h('div', { class: 'card danger-zone' }, h('h3', {}, 'Delete site'), h('p', { class: 'small' }, 'Deletes the site with all its entries and media.'),
      actionButton('Delete site', async () => {
        if (!await confirmDialog('Delete site', `Delete ${site.name} with all its content? This cannot be undone.`, { confirm: 'Delete', danger: true })) return;
        await del(`/v1/sites/${site.id}`);
        session.siteId = null;
        navigate('/sites');
      }, { kind: 'danger' })) : null);
}
