// The content type editor: fields with name, label, type and rules; reorder with the keyboard or
// buttons; saved as one list (the API checks it against existing entries).
import { h, fill } from '../lib/dom.js';
import { get, patch, del } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { pageHeader, button, actionButton, errorBox, toast, confirmDialog } from '../lib/ui.js';

const TYPES = [['text', 'Text'], ['richText', 'Rich text (Markdown)'], ['number', 'Number'], ['boolean', 'Yes / no'], ['dateTime', 'Date and time'],
  ['enum', 'Choice'], ['media', 'Media'], ['reference', 'Reference to entries'], ['elements', 'Elements'], ['json', 'JSON']];

export default async function render(view, { params }) {
  const type = await get(`/v1/content-types/${params.id}`);
  const editable = session.can('content_types.manage') && !type.builtin;
  const fields = type.fields.map((f) => ({ ...f }));
  const list = h('div', { class: 'fields-editor' });
  const problems = h('div');
  const name = h('input', { id: 'type-name', value: type.name, disabled: !editable });
  const description = h('textarea', { id: 'type-description', rows: 2, disabled: !editable }, type.description);

  function draw() {
    fill(list, fields.length ? fields.map((f, i) => fieldRow(f, i)) : h('p', { class: 'muted' }, 'No fields yet: every entry has a title and slug; add the fields it needs.'));
  }
  function fieldRow(f, i) {
    const id = (k) => `field-${i}-${k}`;
    const input = (key, label, attrs = {}) => h('div', {}, h('label', { for: id(key) }, label),
      h('input', { id: id(key), value: f[key] ?? '', disabled: !editable, oninput: (e) => { f[key] = e.target.value || undefined; }, ...attrs }));
    const check = (key, label) => h('label', {}, h('input', { type: 'checkbox', checked: Boolean(f[key]), disabled: !editable, onchange: (e) => { f[key] = e.target.checked; } }), label);
    const move = (delta) => { const j = i + delta; if (j < 0 || j >= fields.length) return; [fields[i], fields[j]] = [fields[j], fields[i]]; draw(); list.querySelectorAll('.field-row')[j]?.querySelector('input')?.focus(); };
    return h('div', { class: 'field-row', 'data-testid': 'field-row' },
      input('name', 'Field name', { required: true, placeholder: 'body' }),
      input('label', 'Label', { placeholder: 'Body' }),
      h('div', {}, h('label', { for: id('type') }, 'Field type'), h('select', { id: id('type'), disabled: !editable, onchange: (e) => { f.type = e.target.value; draw(); } },
        TYPES.map(([v, l]) => h('option', { value: v, selected: v === f.type }, l)))),
      editable ? h('div', { class: 'row' },
        button('↑', () => move(-1), { kind: 'small', title: 'Move up', disabled: i === 0 }),
        button('↓', () => move(1), { kind: 'small', title: 'Move down', disabled: i === fields.length - 1 }),
        button('Remove', () => { fields.splice(i, 1); draw(); }, { kind: 'small danger' })) : h('span'),
      h('div', { class: 'checks' },
        check('required', 'Required'), check('localized', 'Translated per locale'), check('unique', 'Unique'),
        ['media', 'reference'].includes(f.type) ? check('multiple', 'Several') : null,
        f.type === 'number' ? check('integer', 'Whole numbers') : null,
        f.type === 'enum' ? h('span', {}, h('label', { for: id('options') }, 'Choices (comma-separated)'), h('input', { id: id('options'), value: (f.options || []).join(', '), disabled: !editable, oninput: (e) => { f.options = e.target.value.split(',').map((s) => s.trim()).filter(Boolean); } })) : null,
        ['text', 'richText'].includes(f.type) ? h('span', {}, h('label', { for: id('max') }, 'Max length'), h('input', { id: id('max'), type: 'number', min: 1, value: f.max ?? '', disabled: !editable, oninput: (e) => { f.max = e.target.value ? Number(e.target.value) : undefined; } })) : null,
        f.type === 'text' ? h('span', {}, h('label', { for: id('pattern') }, 'Pattern (regex)'), h('input', { id: id('pattern'), value: f.pattern ?? '', disabled: !editable, oninput: (e) => { f.pattern = e.target.value || undefined; } })) : null));
  }
  draw();

  const save = actionButton('Save', async () => {
    fill(problems);
    try {
      await patch(`/v1/content-types/${type.id}`, { name: name.value, description: description.value, fields: fields.map(clean) });
      toast('Content type saved', 'success');
    } catch (error) {
      const details = error.details?.errors;
      fill(problems, errorBox(error), Array.isArray(details) ? h('ul', { class: 'error-text' }, details.map((d) => h('li', {}, `${d.field}: ${d.message}`))) : null);
    }
  }, { kind: 'primary' });

  view.append(
    pageHeader(type.name, { subtitle: h('span', {}, 'API id ', h('code', {}, type.apiId), type.builtin ? ' · built-in, read only' : ''), actions: editable ? [
      actionButton('Delete', async () => {
        if (!await confirmDialog('Delete content type', `Delete ${type.name}? Only possible while no entry uses it.`, { confirm: 'Delete', danger: true })) return;
        await del(`/v1/content-types/${type.id}`);
        navigate('/content/types');
      }, { kind: 'danger' })] : [] }),
    h('div', { class: 'card stack' },
      h('div', { class: 'field' }, h('label', { for: 'type-name' }, 'Name'), name),
      h('div', { class: 'field' }, h('label', { for: 'type-description' }, 'Description'), description)),
    h('h2', {}, 'Fields'), list, problems,
    editable ? h('div', { class: 'row spread' }, button('Add field', () => { fields.push({ name: '', type: 'text', localized: true }); draw(); list.querySelector('.field-row:last-child input')?.focus(); }), save) : null);
}

/** The field as the API takes it: no empty optional keys. */
function clean(f) {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && !v.length)));
}
