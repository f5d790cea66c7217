// Shared building blocks of every page: headers, tables with paging, forms that show the API's
// own error messages next to the field it named, dialogs, toasts, empty states.

import { h, fill } from './dom.js';
import { api, ApiError } from './api.js';
import { formatNumber } from './format.js';

/** Page title row: h1, an optional subtitle and action buttons on the right. */
export function pageHeader(title, { subtitle, actions = [] } = {}) {
  document.title = `${title} · Lectern`;
  return h('header', { class: 'page-header' },
    h('div', {}, h('h1', {}, title), subtitle ? h('p', { class: 'muted' }, subtitle) : null),
    h('div', { class: 'actions' }, actions));
}

export function button(label, onclick, { kind = '', type = 'button', title, disabled, testid } = {}) {
  return h('button', { type, class: kind, onclick, title, disabled, 'data-testid': testid }, label);
}

/** A button that runs async work: disabled while it runs, errors become a toast. */
export function actionButton(label, work, options = {}) {
  const el = button(label, async (event) => {
    el.disabled = true;
    el.setAttribute('aria-busy', 'true');
    try { await work(event); } catch (error) { toastError(error); } finally {
      el.disabled = false;
      el.removeAttribute('aria-busy');
    }
  }, options);
  return el;
}

export function badge(text, kind = '') {
  return h('span', { class: `badge ${kind}` }, text);
}

/** Colour of a status word the API uses (jobs, documents, deliveries, entries). */
export function statusBadge(status) {
  const kinds = {
    ready: 'ok', succeeded: 'ok', completed: 'ok', delivered: 'ok', published: 'ok', active: 'ok', approved: 'ok', corrected: 'ok',
    failed: 'bad', error: 'bad', rejected: 'bad', disabled: 'bad', revoked: 'bad', dead: 'bad',
    pending: 'warn', queued: 'warn', running: 'warn', processing: 'warn', scheduled: 'warn', retrying: 'warn', draft: '',
  };
  return badge(status, kinds[status] ?? '');
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty' }, h('h3', {}, title), text ? h('p', { class: 'muted' }, text) : null, action || null);
}

/** The API's message (not "error"), its code and request id for support. */
export function errorBox(error) {
  const message = error instanceof ApiError || error?.message ? error.message : String(error);
  return h('div', { class: 'alert error', role: 'alert' },
    h('strong', {}, message),
    error?.code && error.code !== 'ERROR' ? h('span', { class: 'muted small' }, ` ${error.code}${error.requestId ? ` · request ${error.requestId}` : ''}`) : null);
}

export function loading(text = 'Loading…') {
  return h('div', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

// ---- Toasts ----------------------------------------------------------------------------------

let toasts;
export function toast(message, kind = 'info') {
  if (!toasts) {
    toasts = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toasts);
  }
  const item = h('div', { class: `toast ${kind}` }, message);
  toasts.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

export function toastError(error) {
  if (error?.name === 'AbortError') return;
  toast(error?.message || String(error), 'error');
}

// ---- Dialogs --------------------------------------------------------------------------------

/** A modal <dialog> (focus trapped and Escape handled by the browser). Returns {dialog, close}. */
export function modal(title, body, { wide = false, onClose } = {}) {
  const dialog = h('dialog', { class: wide ? 'wide' : '', 'aria-label': title },
    h('header', {}, h('h2', {}, title), h('button', { class: 'icon', 'aria-label': 'Close', onclick: () => close() }, '×')),
    h('div', { class: 'dialog-body' }, body));
  const close = () => { dialog.close(); };
  dialog.addEventListener('close', () => { dialog.remove(); onClose?.(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

export function confirmDialog(title, text, { confirm = 'Confirm', danger = false } = {}) {
  return new Promise((resolve) => {
    let answered = false;
    const { close } = modal(title, [
      h('p', {}, text),
      h('div', { class: 'row end' },
        button('Cancel', () => close()),
        button(confirm, () => { answered = true; close(); }, { kind: danger ? 'danger' : 'primary' })),
    ], { onClose: () => resolve(answered) });
  });
}

/** Shows a secret once with a copy button (API keys, webhook secrets). */
export function showSecret(title, secret, note = 'Copy it now: it is shown only once.') {
  return modal(title, [
    h('p', {}, note),
    h('div', { class: 'secret' }, h('code', { 'data-testid': 'secret' }, secret), copyButton(secret)),
  ]);
}

export function copyButton(text, label = 'Copy') {
  const el = button(label, async () => {
    try {
      await navigator.clipboard.writeText(text);
      el.textContent = 'Copied';
    } catch {
      // Clipboard access needs a secure context; select the text instead for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(el.previousElementSibling || el);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      el.textContent = 'Press Ctrl+C';
    }
    setTimeout(() => { el.textContent = label; }, 2000);
  }, { kind: 'small' });
  return el;
}

// ---- Forms ----------------------------------------------------------------------------------

/**
 * A form from field specs: {name, label, type?: text|email|password|number|textarea|select|checkbox|
 * date|datetime-local|url, options?: [[value, label]], value?, required?, help?, placeholder?, attrs?}.
 * onSubmit(values) may throw an ApiError: its message appears at the field it names, else on top.
 */
export function form(fields, onSubmit, { submit = 'Save', cancel, testid } = {}) {
  const top = h('div', { class: 'form-error' });
  const inputs = {};
  const errors = {};
  const rows = fields.map((field) => {
    const id = `f-${field.name}-${Math.random().toString(36).slice(2, 7)}`;
    const input = control(field, id);
    inputs[field.name] = input;
    errors[field.name] = h('div', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
    input.setAttribute('aria-describedby', `${id}-error`);
    if (field.type === 'checkbox') {
      return h('div', { class: 'field checkbox' }, h('label', { for: id }, input, ' ', field.label), field.help ? h('small', { class: 'muted' }, field.help) : null, errors[field.name]);
    }
    return h('div', { class: 'field' }, h('label', { for: id, class: field.required ? 'required' : '' }, field.label),
      input, field.help ? h('small', { class: 'muted' }, field.help) : null, errors[field.name]);
  });
  const submitButton = h('button', { type: 'submit', class: 'primary' }, submit);
  const el = h('form', { class: 'form', novalidate: true, 'data-testid': testid }, top, rows,
    h('div', { class: 'row end' }, cancel ? button('Cancel', cancel) : null, submitButton));
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(top);
    Object.values(errors).forEach((e) => fill(e));
    el.querySelectorAll('[aria-invalid]').forEach((i) => i.removeAttribute('aria-invalid'));
    const values = {};
    for (const field of fields) values[field.name] = readControl(field, inputs[field.name]);
    submitButton.disabled = true;
    submitButton.setAttribute('aria-busy', 'true');
    try {
      await onSubmit(values, el);
    } catch (error) {
      const field = fields.find((f) => error?.fieldMessage?.(f.name) || error?.details?.field?.startsWith?.(`${f.name}.`) || error?.details?.field?.startsWith?.(`${f.name}[`));
      if (field) {
        fill(errors[field.name], error.fieldMessage(field.name) || error.message);
        inputs[field.name].setAttribute('aria-invalid', 'true');
        inputs[field.name].focus();
      } else {
        fill(top, errorBox(error));
      }
    } finally {
      submitButton.disabled = false;
      submitButton.removeAttribute('aria-busy');
    }
  });
  el.inputs = inputs;
  return el;
}

function control(field, id) {
  const common = { id, name: field.name, required: field.required, placeholder: field.placeholder, ...field.attrs };
  if (field.type === 'textarea') return h('textarea', { ...common, rows: field.rows || 4 }, field.value ?? '');
  if (field.type === 'select') {
    return h('select', common, (field.options || []).map(([value, label]) =>
      h('option', { value, selected: String(value) === String(field.value ?? '') }, label)));
  }
  if (field.type === 'checkbox') return h('input', { ...common, type: 'checkbox', checked: Boolean(field.value) });
  return h('input', { ...common, type: field.type || 'text', value: field.value ?? '' });
}

function readControl(field, input) {
  if (field.type === 'checkbox') return input.checked;
  if (field.type === 'number') return input.value === '' ? null : Number(input.value);
  return input.value;
}

// ---- Tables ---------------------------------------------------------------------------------

/**
 * A table of rows: columns are {label, value: row => text|Node, class?}. Empty rows show `empty`.
 */
export function table(columns, rows, { empty, onRowClick, caption, rowAttrs } = {}) {
  if (!rows.length) return empty || emptyState('Nothing here yet');
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', { class: 'sr-only' }, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', {}, rows.map((row) => {
      const tr = h('tr', rowAttrs ? rowAttrs(row) : {}, columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.value(row))));
      if (onRowClick) {
        tr.classList.add('clickable');
        tr.tabIndex = 0;
        tr.addEventListener('click', (e) => { if (!e.target.closest('a,button,input,select')) onRowClick(row); });
        tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === tr) onRowClick(row); });
      }
      return tr;
    }))));
}

/**
 * A list endpoint with the API's paging (`{data, pagination}`) shown as a table with
 * previous/next. Returns {el, reload(query)}.
 */
export function pagedTable(path, columns, { query = {}, limit = 20, empty, onRowClick, caption, rowAttrs, onLoad } = {}) {
  const el = h('div', { class: 'paged' });
  let page = 1;
  let current = { ...query };
  async function load() {
    // Only the first load shows a spinner; later ones replace the rows in place (no flicker).
    if (!el.firstChild) fill(el, loading());
    try {
      const result = await api(path, { query: { ...current, page, limit } });
      const rows = result.data ?? result.items ?? result;
      const p = result.pagination;
      onLoad?.(rows);
      fill(el, table(columns, rows, { empty, onRowClick, caption, rowAttrs }), p && p.pages > 1 ? h('nav', { class: 'pager', 'aria-label': 'Pages' },
        button('← Previous', () => { page -= 1; load(); }, { disabled: !p.hasPrev }),
        h('span', { class: 'muted' }, `Page ${p.page} of ${p.pages} · ${formatNumber(p.total)} in all`),
        button('Next →', () => { page += 1; load(); }, { disabled: !p.hasNext })) : null);
    } catch (error) {
      fill(el, errorBox(error));
    }
  }
  load();
  return {
    el,
    reload(newQuery) { if (newQuery) current = { ...newQuery }; page = 1; return load(); },
    /** Loads the current page again (after a change), keeping the page number. */
    refresh: () => load(),
  };
}

/** Tabs with arrow-key navigation; tabs: [{id, label, render: (panel) => void}]. */
export function tabs(list, { selected } = {}) {
  const bar = h('div', { class: 'tabs', role: 'tablist' });
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '0' });
  const buttons = list.map((tab) => h('button', {
    role: 'tab', id: `tab-${tab.id}`, 'aria-selected': 'false', tabindex: '-1',
    onclick: () => select(tab.id),
    onkeydown: (e) => {
      const index = list.indexOf(tab);
      const next = e.key === 'ArrowRight' ? index + 1 : e.key === 'ArrowLeft' ? index - 1 : null;
      if (next === null) return;
      const target = list[(next + list.length) % list.length];
      select(target.id);
      buttons[list.indexOf(target)].focus();
    },
  }, tab.label));
  bar.append(...buttons);
  function select(id) {
    list.forEach((tab, i) => {
      const on = tab.id === id;
      buttons[i].setAttribute('aria-selected', String(on));
      buttons[i].tabIndex = on ? 0 : -1;
      if (on) { panel.setAttribute('aria-labelledby', `tab-${tab.id}`); fill(panel); tab.render(panel); }
    });
  }
  select(selected || list[0].id);
  return h('div', { class: 'tabbed' }, bar, panel);
}

/** A labelled <select> bound to a callback; options [[value, label]]. */
export function select(label, options, value, onchange, { testid } = {}) {
  const id = `s-${Math.random().toString(36).slice(2, 7)}`;
  return h('label', { class: 'inline', for: id }, h('span', {}, label),
    h('select', { id, 'data-testid': testid, onchange: (e) => onchange(e.target.value) },
      options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, l))));
}

/** Key figures in a row of cards. items: [{label, value, hint?}] */
export function stats(items) {
  return h('div', { class: 'stats' }, items.map((s) =>
    h('div', { class: 'stat card' }, h('div', { class: 'muted small' }, s.label), h('div', { class: 'stat-value' }, s.value), s.hint ? h('div', { class: 'muted small' }, s.hint) : null)));
}
