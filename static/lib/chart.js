// Charts as plain SVG: a stacked bar chart (usage by day and operation, views per day) and a
// horizontal bar list (top queries). Each carries a table for screen readers and <title> tooltips.

import { h, svg } from './dom.js';
import { formatNumber } from './format.js';

const PALETTE = ['var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)', 'var(--c6)'];

/**
 * labels: x categories (e.g. days); series: [{name, values: number[] (one per label)}].
 */
export function barChart({ labels, series, height = 220, format = formatNumber, title = 'Chart' }) {
  const width = Math.max(320, labels.length * 28 + 60);
  const pad = { top: 10, right: 10, bottom: 28, left: 48 };
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (Number(s.values[i]) || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const band = plotW / Math.max(1, labels.length);
  const barW = Math.max(4, Math.min(36, band * 0.7));
  const y = (v) => pad.top + plotH - (v / max) * plotH;

  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = max * f;
    return [svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, format(v))];
  });
  const every = Math.ceil(labels.length / Math.max(1, Math.floor(plotW / 70)));
  const bars = labels.map((label, i) => {
    let base = 0;
    const x = pad.left + i * band + (band - barW) / 2;
    const parts = series.map((s, k) => {
      const v = Number(s.values[i]) || 0;
      if (!v) return null;
      const rect = svg('rect', { x, y: y(base + v), width: barW, height: Math.max(1, y(base) - y(base + v)), fill: PALETTE[k % PALETTE.length], rx: 2 },
        svg('title', {}, `${label} · ${s.name}: ${format(v)}`));
      base += v;
      return rect;
    });
    const tick = i % every === 0 ? svg('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'axis' }, shortLabel(label)) : null;
    return [parts, tick];
  });
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'xMinYMin meet' }, grid, bars);
  return h('figure', { class: 'chart-figure' }, chart, legend(series), dataTable(labels, series, format, title));
}

/** Horizontal bars: items [{label, value}] (top queries, top entries). */
export function barList(items, { format = formatNumber } = {}) {
  const max = Math.max(1, ...items.map((i) => Number(i.value) || 0));
  return h('ul', { class: 'bar-list' }, items.map((item) =>
    h('li', {}, h('span', { class: 'bar-label' }, item.label),
      h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: { width: `${(Number(item.value) / max) * 100}%` } })),
      h('span', { class: 'bar-value' }, format(item.value)))));
}

function legend(series) {
  if (series.length < 2) return null;
  return h('figcaption', { class: 'legend' }, series.map((s, k) =>
    h('span', {}, h('i', { style: { background: PALETTE[k % PALETTE.length] } }), s.name)));
}

function dataTable(labels, series, format, title) {
  // A table ignores a 1px height: hide it inside a div so it does not stretch the page.
  return h('div', { class: 'sr-only' }, h('table', {}, h('caption', {}, title),
    h('thead', {}, h('tr', {}, h('th', {}, ''), series.map((s) => h('th', {}, s.name)))),
    h('tbody', {}, labels.map((label, i) => h('tr', {}, h('th', {}, label), series.map((s) => h('td', {}, format(s.values[i] || 0))))))));
}

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 2.5, 5, 10];
  return steps.map((s) => s * magnitude).find((s) => s >= value);
}

function shortLabel(label) {
  // ISO days become "Mar 12"; other labels are cut to fit.
  if (/^\d{4}-\d{2}-\d{2}/.test(label)) {
    const date = new Date(`${label.slice(0, 10)}T00:00:00`);
    return date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  }
  return String(label).length > 10 ? `${String(label).slice(0, 9)}…` : String(label);
}
