// The entry editor: fields by type, publish / schedule / unpublish, translations side by side,
// and revisions with restore. `/content/entries/new?type=<api id>` creates one.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, ApiError } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { pageHeader, tabs, button, actionButton, statusBadge, errorBox, toast, confirmDialog, modal, pagedTable, emptyState, loading } from '../lib/ui.js';
import { formatDate, humanize } from '../lib/format.js';
import { currentSite, noSite, contentTypes, splitList } from './content-common.js';
import { fieldInput, pickerOptions } from './entry-fields.js';

export default async function render(view, { params, query }) {
  const { sites, site } = await currentSite();
  if (!site) { view.append(pageHeader('Entry'), noSite()); return; }
  const types = await contentTypes();
  if (params.id === 'new') {
    const type = types.find((t) => t.apiId === query.get('type')) || types[0];
    const options = await pickerOptions(site.id, type.fields);
    const editor = entryEditor(site, type, null, options, { prefix: 'new', onSaved: (saved) => navigate(`/content/entries/${saved.id}`, { replace: true }) });
    view.append(pageHeader(`New ${type.name}`, { subtitle: `${site.name} · ${site.defaultLocale}` }), h('div', { class: 'card' }, editor.el));
    return;
  }
  const { entry, entrySite } = await findEntry(sites, site, params.id);
  const type = types.find((t) => t.apiId === entry.type) || { name: humanize(entry.type), apiId: entry.type, fields: [] };
  const options = await pickerOptions(entrySite.id, type.fields);
  const base = `/v1/sites/${entrySite.id}/entries`;
  const status = h('div', { class: 'entry-status' });
  const showStatus = (e) => fill(status, statusBadge(e.status), e.publishedAt ? h('span', { class: 'small muted' }, `published ${formatDate(e.publishedAt)}`) : null,
    e.status === 'scheduled' && e.publishAt ? h('span', { class: 'small muted' }, `goes live ${formatDate(e.publishAt)}`) : null,
    h('span', { class: 'small muted' }, `revision ${e.revision} · ${e.locale}`));
  showStatus(entry);
  const editor = entryEditor(entrySite, type, entry, options, { prefix: 'entry', onSaved: (saved) => { Object.assign(entry, saved); showStatus(entry); } });

  view.append(
    pageHeader(entry.title, { subtitle: `${type.name} · ${entrySite.name}`, actions: [
      session.can('content.write') ? actionButton('Duplicate', async () => { const copy = await post(`${base}/${entry.id}/duplicate`); navigate(`/content/entries/${copy.id}`); }) : null,
      session.can('content.write') ? actionButton('Delete', async () => {
        if (!await confirmDialog('Delete entry', `Delete “${entry.title}” (${entry.locale})?`, { confirm: 'Delete', danger: true })) return;
        await del(`${base}/${entry.id}`);
        navigate('/content/entries');
      }, { kind: 'danger' }) : null] }),
    tabs([
      { id: 'content', label: 'Content', render: (panel) => fill(panel, h('div', { class: 'row spread' }, status, publishControls(base, entry, showStatus)), h('div', { class: 'card' }, editor.el)) },
      { id: 'translations', label: 'Translations', render: (panel) => translations(panel, entrySite, type, entry, options) },
      { id: 'revisions', label: 'Revisions', render: (panel) => revisions(panel, base, entry) },
    ]));
}

/** The entry in the current site, else in another of the tenant's sites (a link from elsewhere). */
async function findEntry(sites, site, id) {
  const ordered = [site, ...sites.filter((s) => s.id !== site.id)];
  for (const candidate of ordered) {
    try {
      const entry = await get(`/v1/sites/${candidate.id}/entries/${id}`);
      session.siteId = candidate.id;
      return { entry, entrySite: candidate };
    } catch (error) {
      if (error.status !== 404) throw error;
    }
  }
  throw new ApiError(404, { error: 'NOT_FOUND', message: 'This entry does not exist in any of your sites.' });
}

/**
 * Title, slug, tags and the type's fields. Saves a new entry (POST), an existing one (PATCH), or,
 * with `translationOf`, creates the translation in `locale`.
 */
function entryEditor(site, type, entry, options, { prefix, onSaved, locale, translationOf, source }) {
  const start = entry || source || { title: '', slug: '', tags: [], data: {} };
  const top = h('div');
  const title = h('input', { id: `${prefix}-title`, value: start.title, required: true });
  const slug = h('input', { id: `${prefix}-slug`, value: entry ? entry.slug : '', placeholder: 'from the title' });
  const tags = h('input', { id: `${prefix}-tags`, value: (start.tags || []).join(', '), placeholder: 'news, launch' });
  const inputs = type.fields.map((f) => ({ field: f, ...fieldInput(f, start.data?.[f.name], options, { prefix }) }));
  const saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const el = h('form', { class: 'form', novalidate: true }, top,
    h('div', { class: 'field' }, h('label', { for: `${prefix}-title`, class: 'required' }, 'Title'), title),
    h('div', { class: 'field' }, h('label', { for: `${prefix}-slug` }, 'Slug'), slug),
    inputs.map((i) => i.el),
    h('div', { class: 'field' }, h('label', { for: `${prefix}-tags` }, 'Tags'), tags, h('small', { class: 'muted' }, 'Separated by commas.')),
    h('div', { class: 'row end' }, saveButton));
  el.addEventListener('submit', async (e) => {
    e.preventDefault();
    fill(top);
    el.querySelectorAll('.field-error').forEach((x) => fill(x));
    saveButton.disabled = true;
    try {
      const data = {};
      for (const i of inputs) data[i.field.name] = i.read();
      const body = { title: title.value, slug: slug.value || undefined, tags: splitList(tags.value), data };
      let saved;
      if (entry) saved = await patch(`/v1/sites/${site.id}/entries/${entry.id}`, body);
      else if (translationOf) saved = await post(`/v1/sites/${site.id}/entries/${translationOf}/translations`, { ...body, locale });
      else saved = await post(`/v1/sites/${site.id}/entries`, { ...body, type: type.apiId });
      toast('Saved', 'success');
      onSaved(saved);
    } catch (error) {
      // Field errors name `data.<field>` (or the field itself): show them at the input.
      const named = error.details?.field?.replace(/^data\./, '');
      const slot = named && el.querySelector(`.field-error[data-field="${CSS.escape(named)}"]`);
      if (slot) fill(slot, error.message); else fill(top, errorBox(error));
      (error.details?.errors || []).forEach((fe) => {
        const s = el.querySelector(`.field-error[data-field="${CSS.escape(String(fe.field).replace(/^data\./, ''))}"]`);
        if (s) fill(s, fe.message);
      });
    } finally {
      saveButton.disabled = false;
    }
  });
  return { el };
}

/** Publish now, schedule, or unpublish (content.publish). */
function publishControls(base, entry, showStatus) {
  if (!session.can('content.publish')) return null;
  const apply = (e) => { Object.assign(entry, e); showStatus(entry); draw(); };
  const el = h('div', { class: 'row' });
  function draw() {
    fill(el,
      entry.status !== 'published' ? actionButton('Publish', async () => { apply(await post(`${base}/${entry.id}/publish`)); toast('Published', 'success'); }, { kind: 'primary' }) : null,
      entry.status === 'published' || entry.status === 'scheduled' ? actionButton('Unpublish', async () => { apply(await post(`${base}/${entry.id}/unpublish`)); toast('Unpublished'); }) : null,
      button('Schedule', () => scheduleDialog(base, entry, apply)));
  }
  draw();
  return el;
}

function scheduleDialog(base, entry, apply) {
  const when = h('input', { id: 'publish-at', type: 'datetime-local', required: true });
  const problem = h('div');
  const { close } = modal('Schedule publishing', [
    h('div', { class: 'field' }, h('label', { for: 'publish-at' }, 'Publish at (your time zone)'), when), problem,
    h('div', { class: 'row end' }, actionButton('Schedule', async () => {
      try {
        apply(await post(`${base}/${entry.id}/publish`, { publishAt: new Date(when.value).toISOString() }));
        close();
        toast('Scheduled', 'success');
      } catch (error) { fill(problem, errorBox(error)); }
    }, { kind: 'primary' }))]);
}

async function translations(panel, site, type, entry, options) {
  fill(panel, loading());
  const base = `/v1/sites/${site.id}/entries`;
  const group = await get(`${base}/${entry.id}/translations`);
  const work = h('div');
  const variants = group.variants.filter((v) => v.id !== entry.id);
  const openVariant = async (variant) => {
    const full = await get(`${base}/${variant.id}`);
    sideBySide(work, site, type, entry, options, full);
  };
  const picker = group.missing.length ? h('div', { class: 'row' }, button('Add translation', () => {
    const localeSelect = h('select', { id: 'translation-locale', onchange: () => start() }, h('option', { value: '' }, 'Choose…'), group.missing.map((l) => h('option', { value: l }, l)));
    const start = () => { if (localeSelect.value) sideBySide(work, site, type, entry, options, null, localeSelect.value); };
    fill(work, h('div', { class: 'field' }, h('label', { for: 'translation-locale' }, 'Locale'), localeSelect));
    localeSelect.focus();
  }, { kind: 'primary' })) : h('p', { class: 'muted' }, 'The entry exists in every locale of the site.');
  fill(panel,
    variants.length ? h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Locale', 'Title', 'Status', 'Updated', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, variants.map((v) => h('tr', {}, h('td', {}, v.locale), h('td', {}, v.title), h('td', {}, statusBadge(v.status)), h('td', {}, formatDate(v.updatedAt)),
        h('td', {}, button('Edit side by side', () => openVariant(v), { kind: 'small' }))))))) : h('p', { class: 'muted' }, `Only in ${entry.locale} so far.`),
    group.missing.length ? h('p', { class: 'small muted' }, `Missing: ${group.missing.join(', ')}`) : null,
    picker, work);
}

/** The source on the left (read only), the translation on the right (new or existing). */
function sideBySide(el, site, type, source, options, variant, locale = variant?.locale) {
  const base = `/v1/sites/${site.id}/entries`;
  const status = h('div', { class: 'entry-status' });
  let current = variant;
  const showStatus = () => fill(status, current ? statusBadge(current.status) : h('span', { class: 'small muted' }, 'not saved yet'));
  const publish = h('div', { class: 'row' });
  const drawPublish = () => fill(publish, session.can('content.publish') && current && current.status !== 'published'
    ? actionButton('Publish', async () => { current = await post(`${base}/${current.id}/publish`); showStatus(); drawPublish(); toast('Translation published', 'success'); }, { kind: 'primary' }) : null);
  const editor = entryEditor(site, type, variant, options, {
    prefix: `tr-${locale}`, locale, translationOf: variant ? null : source.id, source,
    onSaved: (saved) => { current = saved; showStatus(); drawPublish(); },
  });
  showStatus();
  drawPublish();
  const sourceFields = h('div', { class: 'form' },
    h('div', { class: 'field' }, h('label', { for: 'src-title' }, 'Title'), h('input', { id: 'src-title', value: source.title, readonly: true })),
    type.fields.map((f) => fieldInput(f, source.data?.[f.name], options, { prefix: 'src', readonly: true }).el));
  fill(el, h('div', { class: 'side-by-side' },
    h('section', { class: 'translation-pane', 'aria-label': `Source (${source.locale})` }, h('h3', {}, `Source · ${source.locale}`), sourceFields),
    h('section', { class: 'translation-pane', 'aria-label': `Translation (${locale})` }, h('div', { class: 'row spread' }, h('h3', {}, `Translation · ${locale}`), status, publish), editor.el)));
}

async function revisions(panel, base, entry) {
  const list = pagedTable(`${base}/${entry.id}/revisions`, [
    { label: '#', class: 'num', value: (r) => r.number },
    { label: 'Title', value: (r) => r.title },
    { label: 'Status', value: (r) => statusBadge(r.status) },
    { label: 'Changed', value: (r) => r.changed.join(', ') || '—' },
    { label: 'By', value: (r) => h('span', { class: 'small' }, r.actor) },
    { label: 'When', value: (r) => formatDate(r.createdAt) },
    { label: '', value: (r) => h('span', { class: 'row' },
      button('View', () => showRevision(base, entry, r.number), { kind: 'small' }),
      session.can('content.write') && r.number !== entry.revision ? button('Restore', () => restore(base, entry, r.number), { kind: 'small' }) : null) },
  ], { query: { sort: '-number' }, empty: emptyState('No revisions', 'Every save makes one.') });
  fill(panel, list.el);
}

async function showRevision(base, entry, number) {
  try {
    const r = await get(`${base}/${entry.id}/revisions/${number}`);
    modal(`Revision ${number}`, [
      h('p', { class: 'muted small' }, `${r.summary.title} · ${formatDate(r.summary.createdAt)} · ${r.summary.actor}`),
      r.diff.length ? h('div', {}, h('h3', {}, 'Differences to the current entry'), h('ul', {}, r.diff.map((d) => h('li', {}, h('strong', {}, d.field), ': ', h('code', {}, JSON.stringify(d.revision)), ' → ', h('code', {}, JSON.stringify(d.current)))))) : h('p', {}, 'Same as the current entry.'),
      h('h3', {}, 'Data'), h('pre', {}, JSON.stringify(r.data, null, 2)),
    ], { wide: true });
  } catch (error) { toast(error.message, 'error'); }
}

async function restore(base, entry, number) {
  if (!await confirmDialog('Restore revision', `Replace the current content with revision ${number}? The current state stays in the history.`, { confirm: 'Restore' })) return;
  try {
    await post(`${base}/${entry.id}/revisions/${number}/restore`);
    toast(`Revision ${number} restored`, 'success');
    navigate(`/content/entries/${entry.id}`);
  } catch (error) { toast(error.message, 'error'); }
}

