// Credits: balance, usage by day and operation, the ledger with CSV export, buying credits and
// subscriptions through Stripe Checkout, and the customer portal.
import { h, fill } from '../lib/dom.js';
import { get, post, download } from '../lib/api.js';
import { session } from '../lib/session.js';
import { setQuery } from '../lib/router.js';
import { pageHeader, pagedTable, stats, button, actionButton, modal, errorBox, emptyState, select, badge, loading } from '../lib/ui.js';
import { barChart, barList } from '../lib/chart.js';
import { formatCredits, formatDate, humanize } from '../lib/format.js';

const PERIODS = [['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last year']];

export default async function render(view, { query }) {
  const canManage = session.can('billing.manage');
  const [balance, plans] = await Promise.all([get('/v1/billing/balance'), get('/v1/billing/plans').catch(() => null)]);
  const low = balance.lowBalanceThreshold !== null && Number(balance.balance) <= Number(balance.lowBalanceThreshold);
  const actions = [];
  if (canManage) {
    actions.push(button('Buy credits', () => buyCredits(plans), { kind: 'primary' }));
    if (balance.plan || balance.subscriptionStatus) actions.push(actionButton('Manage subscription', async () => { location.assign((await post('/v1/billing/portal')).url); }));
  }
  const days = query.get('days') || '30';
  const usage = h('section', { class: 'card' });
  view.append(
    pageHeader('Billing', { subtitle: 'Credits pay for searches, chat answers, ingestion and analysis.', actions }),
    query.get('checkout') === 'success' ? h('div', { class: 'alert info', role: 'status' }, 'Thank you: the credits arrive as soon as Stripe confirms the payment.') : null,
    low ? h('div', { class: 'alert warn', role: 'alert' }, `Low balance: ${formatCredits(balance.balance)} credits left (warning below ${formatCredits(balance.lowBalanceThreshold)}).`) : null,
    stats([
      { label: 'Balance', value: formatCredits(balance.balance), hint: Number(balance.overdraftLimit) ? `overdraft up to ${formatCredits(balance.overdraftLimit)}` : 'credits' },
      { label: 'Spent this month', value: formatCredits(balance.spentThisMonth), hint: balance.monthlyCap ? `cap ${formatCredits(balance.monthlyCap)}` : 'no monthly cap' },
      { label: 'Plan', value: balance.plan ? humanize(balance.plan) : 'None', hint: balance.subscriptionStatus || (balance.paymentsConfigured ? 'pay as you go' : 'payments not configured') },
    ]),
    h('div', { class: 'row spread' }, h('h2', {}, 'Usage'), select('Period', PERIODS, days, (value) => { setQuery({ days: value }); showUsage(usage, value); })),
    usage,
    h('div', { class: 'row spread' }, h('h2', {}, 'Transactions'),
      actionButton('Export CSV', () => download('/v1/billing/transactions.csv', {}, 'transactions.csv'))),
    pagedTable('/v1/billing/transactions', [
      { label: 'Date', value: (t) => formatDate(t.createdAt) },
      { label: 'Kind', value: (t) => h('span', {}, badge(t.kind, t.kind === 'purchase' || t.kind === 'grant' ? 'ok' : ''), t.sandbox ? badge('test', 'warn') : null) },
      { label: 'Operation', value: (t) => [t.operation ? humanize(t.operation) : '—', t.model ? h('div', { class: 'small muted' }, t.model) : null] },
      { label: 'Amount', class: 'num', value: (t) => h('span', { class: Number(t.amount) < 0 ? '' : 'positive' }, formatCredits(t.amount)) },
      { label: 'Balance', class: 'num', value: (t) => formatCredits(t.balanceAfter) },
      { label: 'By', value: (t) => h('span', { class: 'small' }, t.actor) },
    ], { empty: emptyState('No transactions yet', 'Purchases, grants and metered usage appear here.') }).el);
  showUsage(usage, days);
}

async function showUsage(el, days) {
  fill(el, loading());
  const to = new Date();
  const from = new Date(to.getTime() - (Number(days) - 1) * 86_400_000);
  const iso = (d) => d.toISOString().slice(0, 10);
  try {
    const [daily, byOperation] = await Promise.all([
      get('/v1/billing/usage', { from: iso(from), to: iso(to) }),
      get('/v1/billing/usage', { from: iso(from), to: iso(to), groupBy: 'operation' }),
    ]);
    if (!daily.rows.length) { fill(el, emptyState('No usage in this period', 'Searches, chat answers and ingestion are metered here.')); return; }
    const labels = [];
    for (let d = new Date(from); d <= to; d = new Date(d.getTime() + 86_400_000)) labels.push(iso(d));
    const operations = byOperation.rows.map((r) => r.key);
    const perDay = Object.fromEntries(daily.rows.map((r) => [r.key, r.byOperationMicros || {}]));
    const series = operations.map((op) => ({ name: humanize(op), values: labels.map((day) => (perDay[day]?.[op] || 0) / 1e6) }));
    fill(el,
      h('p', { class: 'muted small' }, `${formatCredits(daily.total)} credits from ${formatDate(daily.from, { time: false })} to ${formatDate(daily.to, { time: false })}`),
      barChart({ labels, series, title: 'Credits per day by operation', format: (v) => formatCredits(v) }),
      h('h3', {}, 'By operation'),
      barList(byOperation.rows.map((r) => ({ label: `${humanize(r.key)} (${r.operations})`, value: Number(r.credits) })), { format: formatCredits }));
  } catch (error) {
    fill(el, errorBox(error));
  }
}

/** Choose a credit pack (or a plan), then go to Stripe Checkout. */
function buyCredits(plans) {
  if (!plans?.paymentsConfigured) {
    modal('Buy credits', [errorBox({ message: 'Payments are not configured on this server (STRIPE_SECRET_KEY). Ask the platform administrator to grant credits.' })]);
    return;
  }
  const options = [
    ...plans.packs.map((p) => ({ kind: 'pack', name: p.name, label: `${humanize(p.name)}: ${formatCredits(p.credits)} credits`, hint: 'one-off payment' })),
    ...plans.plans.map((p) => ({ kind: 'plan', name: p.name, label: `${humanize(p.name)} plan: ${formatCredits(p.credits)} credits a month`, hint: 'subscription' })),
  ];
  const error = h('div');
  const choices = h('fieldset', { class: 'choices' }, h('legend', {}, 'Choose what to buy'), options.map((o, i) =>
    h('label', { class: 'choice' }, h('input', { type: 'radio', name: 'product', value: i, checked: i === 0 }), h('span', {}, o.label, h('span', { class: 'small muted' }, ` · ${o.hint}`)))));
  const go = actionButton('Continue to checkout', async () => {
    fill(error);
    const chosen = options[Number(choices.querySelector('input:checked')?.value)];
    if (!chosen) return;
    const back = `${location.origin}/billing`;
    try {
      const started = await post('/v1/billing/checkout', { [chosen.kind]: chosen.name, successUrl: `${back}?checkout=success`, cancelUrl: back });
      location.assign(started.url);
    } catch (e) {
      fill(error, errorBox(e));
    }
  }, { kind: 'primary' });
  modal('Buy credits', [options.length ? choices : h('p', {}, 'No credit packs are configured.'), error, h('p', { class: 'small muted' }, 'Payment happens on Stripe’s secure page; you come back here afterwards.'), h('div', { class: 'row end' }, go)]);
}
