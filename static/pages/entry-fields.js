// Inputs for an entry's fields, by field type: each returns {el, read()} where read() gives the
// value the API takes (or throws with a message naming the field).
import { h } from '../lib/dom.js';
import { get, items } from '../lib/api.js';
import { humanize } from '../lib/format.js';

/** Options for media, reference and elements fields of a site, loaded once per editor. */
export async function pickerOptions(siteId, fields) {
  const need = (type) => fields.some((f) => f.type === type);
  const [media, entries, elements] = await Promise.all([
    need('media') ? get(`/v1/sites/${siteId}/media`, { limit: 100 }).then(items) : [],
    need('reference') ? get(`/v1/sites/${siteId}/entries`, { limit: 100 }).then(items) : [],
    need('elements') ? get(`/v1/sites/${siteId}/elements`, { limit: 100 }).then(items) : [],
  ]);
  return {
    media: media.map((m) => [m.id, m.name]),
    reference: entries.map((e) => [e.id, `${e.title} (${e.locale})`]),
    elements: elements.map((e) => [e.id, e.name]),
  };
}

export function fieldLabel(field) {
  return field.label || humanize(field.name);
}

/** One labelled input for `field` holding `value`; `prefix` keeps ids unique on a page. */
export function fieldInput(field, value, options, { prefix = 'entry', readonly = false } = {}) {
  const id = `${prefix}-${field.name}`;
  const label = h('label', { for: id, class: field.required ? 'required' : '' }, fieldLabel(field));
  const help = field.description ? h('small', { class: 'muted' }, field.description) : null;
  const common = { id, name: field.name, disabled: readonly, required: field.required };
  let input;
  let read;
  switch (field.type) {
    case 'richText':
      input = h('textarea', { ...common, rows: 8 }, typeof value === 'string' ? value : value ? JSON.stringify(value, null, 2) : '');
      read = () => (field.format === 'blocks' ? parseJson(field, input.value) : input.value || null);
      break;
    case 'number':
      input = h('input', { ...common, type: 'number', step: field.integer ? 1 : 'any', value: value ?? '' });
      read = () => (input.value === '' ? null : Number(input.value));
      break;
    case 'boolean':
      input = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
      read = () => input.checked;
      return { el: h('div', { class: 'field checkbox' }, h('label', { for: id }, input, ' ', fieldLabel(field)), help), read };
    case 'dateTime':
      input = h('input', { ...common, type: 'datetime-local', value: value ? toLocalInput(value) : '' });
      read = () => (input.value ? new Date(input.value).toISOString() : null);
      break;
    case 'enum':
      input = h('select', common, h('option', { value: '' }, '—'), (field.options || []).map((o) => h('option', { value: o, selected: o === value }, o)));
      read = () => input.value || null;
      break;
    case 'media':
    case 'reference':
    case 'elements': {
      const many = field.multiple || field.type === 'elements';
      const chosen = new Set([].concat(value ?? []));
      input = h('select', { ...common, multiple: many }, many ? null : h('option', { value: '' }, '—'),
        (options[field.type] || []).map(([v, l]) => h('option', { value: v, selected: chosen.has(v) }, l)));
      read = () => (many ? [...input.selectedOptions].map((o) => o.value) : input.value || null);
      break;
    }
    case 'json':
      input = h('textarea', { ...common, rows: 6, class: 'mono' }, value === undefined || value === null ? '' : JSON.stringify(value, null, 2));
      read = () => parseJson(field, input.value);
      break;
    default:
      input = h('input', { ...common, value: value ?? '', maxlength: field.max, pattern: field.pattern });
      read = () => input.value || null;
  }
  return { el: h('div', { class: 'field' }, label, input, help, h('div', { class: 'field-error', 'data-field': field.name })), read };
}

function parseJson(field, text) {
  if (!text.trim()) return null;
  try { return JSON.parse(text); } catch { throw new Error(`${fieldLabel(field)}: not valid JSON`); }
}

function toLocalInput(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
