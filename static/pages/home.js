// The overview after login: key figures the caller may see, work in progress, and first steps
// while the tenant is empty. Each card loads on its own, so one failure does not hide the rest.
import { h, fill } from '../lib/dom.js';
import { get } from '../lib/api.js';
import { session } from '../lib/session.js';
import { pageHeader, errorBox, loading, statusBadge, table } from '../lib/ui.js';
import { formatCredits, formatNumber, formatRelative, humanize } from '../lib/format.js';
import { progressBar } from './knowledge-common.js';

export default async function render(view) {
  const first = session.user?.name?.split(' ')[0] || 'there';
  const figures = h('div', { class: 'stats' });
  const jobs = h('section', { class: 'card' });
  const steps = h('section');
  view.append(pageHeader(`Hello, ${first}`, { subtitle: `${session.membership?.tenantName ?? ''} · ${session.membership?.role ?? ''}` }), figures, steps, jobs);

  const cards = [];
  if (session.can('billing.read')) cards.push(card('Credit balance', async () => formatCredits((await get('/v1/billing/balance')).balance), '/billing'));
  if (session.can('kb.read')) cards.push(card('Knowledge bases', async () => formatNumber((await get('/v1/knowledge-bases', { limit: 1 })).pagination.total), '/knowledge-bases'));
  if (session.can('sites.read')) cards.push(card('Sites', async () => formatNumber((await get('/v1/sites', { limit: 1 })).pagination.total), '/sites'));
  if (session.can('members.read')) cards.push(card('Members', async () => formatNumber((await get('/v1/members', { limit: 1 })).pagination.total), '/users'));
  figures.append(...cards.map((c) => c.el));
  await Promise.all(cards.map((c) => c.load()));
  gettingStarted(steps, cards);
  recentJobs(jobs);
}

function card(label, load, href) {
  const value = h('div', { class: 'stat-value' }, '…');
  const el = h('a', { class: 'stat card', href, 'data-link': true }, h('div', { class: 'muted small' }, label), value);
  return {
    el, label,
    async load() {
      try { this.value = await load(); fill(value, this.value); } catch (error) { fill(value, h('span', { class: 'small error-text' }, error.message)); }
    },
  };
}

function gettingStarted(el, cards) {
  const empty = (label) => cards.find((c) => c.label === label)?.value === '0';
  const todo = [
    session.can('sites.manage') && empty('Sites') && ['Create a site', 'for your content and its public API', '/sites'],
    session.can('kb.write') && empty('Knowledge bases') && ['Create a knowledge base', 'and upload documents to search and chat with', '/knowledge-bases'],
    session.can('members.manage') && cards.find((c) => c.label === 'Members')?.value === '1' && ['Invite your team', 'editors, authors or viewers', '/users'],
    session.can('api_keys.manage') && ['Create an API key', 'to use Lectern from your own code', '/api-keys'],
  ].filter(Boolean);
  if (todo.length < 2) return;
  fill(el, h('div', { class: 'card getting-started' }, h('h2', {}, 'Getting started'),
    h('ol', {}, todo.map(([title, text, href]) => h('li', {}, h('a', { href, 'data-link': true }, title), ` ${text}`)))));
}

async function recentJobs(el) {
  fill(el, h('h2', {}, 'Recent work'), loading());
  try {
    const result = await get('/v1/jobs', { limit: 8, sort: '-createdAt' });
    fill(el, h('h2', {}, 'Recent work'), table([
      { label: 'Job', value: (j) => humanize(j.kind) },
      { label: 'Status', value: (j) => statusBadge(j.status) },
      { label: 'Progress', value: (j) => j.status === 'running' || j.status === 'queued' ? h('div', {}, h('span', { class: 'small muted' }, `${j.stage} ${j.progress}%`), progressBar(j.progress)) : (j.error ? h('span', { class: 'small error-text' }, j.error) : `${j.done}/${j.total}`) },
      { label: 'Started', value: (j) => formatRelative(j.createdAt) },
    ], result.data, { empty: h('p', { class: 'muted' }, 'No background work yet: uploads, reindexing and analysis runs show up here.') }));
  } catch (error) {
    fill(el, h('h2', {}, 'Recent work'), errorBox(error));
  }
}
