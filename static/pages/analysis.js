// Document analysis: schemas (the fields to extract), runs over documents, and the review queue
// where people approve, correct or reject each extracted value.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, items, download } from '../lib/api.js';
import { navigate } from '../lib/router.js';
import { pageHeader, tabs, pagedTable, button, actionButton, modal, form, toast, emptyState, errorBox, loading, statusBadge, confirmDialog, badge } from '../lib/ui.js';
import { formatDate, formatNumber } from '../lib/format.js';
import { allKnowledgeBases, followJob, progressBar } from './knowledge-common.js';

const FIELD_TYPES = ['string', 'number', 'money', 'date', 'boolean', 'enum', 'stringList', 'table'];

export default async function render(view, { query }) {
  const runId = query.get('run');
  view.append(pageHeader('Analysis', { subtitle: 'Extract typed fields from documents, with the page and quote each value comes from.' }),
    runId ? await runDetail(runId) : tabs([
      { id: 'review', label: 'Review queue', render: (panel) => reviewQueue(panel) },
      { id: 'runs', label: 'Runs', render: (panel) => runs(panel) },
      { id: 'schemas', label: 'Schemas', render: (panel) => schemas(panel) },
    ], { selected: query.get('tab') || 'review' }));
}

export function showValue(value) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, 'not found');
  if (typeof value === 'object' && 'amount' in value) return `${value.amount} ${value.currency ?? ''}`;
  if (Array.isArray(value) || typeof value === 'object') return h('code', { class: 'small' }, JSON.stringify(value));
  return String(value);
}

function resultRow(r, onChange) {
  const correction = h('input', { 'aria-label': `Corrected ${r.field}`, placeholder: 'Correct value', class: 'small-input' });
  const act = (action) => actionButton(action === 'approve' ? 'Approve' : action === 'reject' ? 'Reject' : 'Correct', async () => {
    let value;
    if (action === 'correct') {
      if (!correction.value.trim()) { correction.focus(); return; }
      try { value = JSON.parse(correction.value); } catch { value = correction.value; }
    }
    await post(`/v1/analysis/results/${r.id}/review`, { action, ...(value !== undefined ? { value } : {}) });
    onChange();
  }, { kind: `small ${action === 'approve' ? 'primary' : action === 'reject' ? 'danger' : ''}` });
  return h('tr', { 'data-testid': 'analysis-result' },
    h('td', { 'data-label': 'Field' }, h('strong', {}, r.field)),
    h('td', { 'data-label': 'Value' }, showValue(r.value), r.errors.length ? h('div', { class: 'small error-text' }, r.errors.join('; ')) : null),
    h('td', { 'data-label': 'Confidence', class: 'num' }, `${formatNumber(r.confidence * 100, 0)} %`),
    h('td', { 'data-label': 'Source' }, r.source ? [r.source.page ? `p. ${r.source.page} · ` : '', h('q', { class: 'small' }, r.source.quote)] : '—'),
    h('td', { 'data-label': 'Status' }, statusBadge(r.status)),
    h('td', { 'data-label': '' }, r.status === 'pending' ? h('div', { class: 'row' }, act('approve'), correction, act('correct'), act('reject')) : null));
}

function resultsTable(rows, onChange) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Field', 'Value', 'Confidence', 'Source', 'Status', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, rows.map((r) => resultRow(r, onChange)))));
}

async function reviewQueue(panel) {
  fill(panel, loading());
  try {
    const queue = items(await get('/v1/analysis/review', { status: 'pending', limit: 100 }));
    fill(panel, queue.length ? [h('p', { class: 'muted small' }, 'Values failing validation first, then the least confident.'), resultsTable(queue, () => reviewQueue(panel))]
      : emptyState('Nothing to review', 'Start a run on documents; values wait here until someone approves or corrects them.'));
  } catch (error) { fill(panel, errorBox(error)); }
}

function runs(panel) {
  const list = pagedTable('/v1/analysis/runs', [
    { label: 'Started', value: (r) => formatDate(r.createdAt) },
    { label: 'Documents', class: 'num', value: (r) => r.documentIds.length },
    { label: 'Extractor', value: (r) => badge(r.extractor) },
    { label: 'Status', value: (r) => [statusBadge(r.status), r.error ? h('div', { class: 'small error-text' }, r.error) : null] },
  ], { onRowClick: (r) => navigate(`/analysis?run=${r.id}`), empty: emptyState('No runs yet', 'Pick a schema and documents to extract values from.') });
  fill(panel, h('div', { class: 'row end' }, button('New run', newRunDialog, { kind: 'primary' })), list.el);
}

async function newRunDialog() {
  const [schemaList, kbs, models] = await Promise.all([get('/v1/analysis/schemas', { limit: 100 }).then(items), allKnowledgeBases(), get('/v1/models').then((m) => m.data.filter((x) => x.capabilities?.includes('chat'))).catch(() => [])]);
  if (!schemaList.length) { toast('Create a schema first', 'error'); return; }
  const docs = h('select', { id: 'run-docs', multiple: true, size: 6 });
  const loadDocs = async (kbId) => fill(docs, items(await get(`/v1/knowledge-bases/${kbId}/documents`, { limit: 100, status: 'ready' })).map((d) => h('option', { value: d.id }, d.title)));
  const runForm = form([
    { name: 'schemaId', label: 'Schema', type: 'select', options: schemaList.map((s) => [s.id, s.name]) },
    { name: 'kb', label: 'Knowledge base', type: 'select', options: kbs.map((k) => [k.id, k.name]), attrs: { onchange: (e) => loadDocs(e.target.value) } },
    { name: 'extractor', label: 'Extractor', type: 'select', options: [['', 'Default'], ['rules', 'Rules (no model)'], ...models.filter((m) => m.id !== 'extractive').map((m) => [`llm:${m.id}`, `Model: ${m.id}`])] },
    { name: 'autoApproveAbove', label: 'Approve automatically above confidence', type: 'number', placeholder: 'e.g. 0.9', attrs: { min: 0, max: 1, step: 0.05 } },
  ], async (values) => {
    const documentIds = [...docs.selectedOptions].map((o) => o.value);
    const run = await post('/v1/analysis/runs', { schemaId: values.schemaId, documentIds, ...(values.extractor ? { extractor: values.extractor } : {}), ...(values.autoApproveAbove !== null ? { autoApproveAbove: values.autoApproveAbove } : {}) });
    close();
    navigate(`/analysis?run=${run.id}`);
  }, { submit: 'Start run' });
  runForm.insertBefore(h('div', { class: 'field' }, h('label', { for: 'run-docs' }, 'Documents'), docs, h('small', { class: 'muted' }, 'Ctrl/Cmd-click to choose several.')), runForm.lastElementChild);
  const { close } = modal('New analysis run', runForm, { wide: true });
  if (kbs[0]) loadDocs(kbs[0].id);
}

async function runDetail(runId) {
  const el = h('div');
  const load = async () => {
    const run = await get(`/v1/analysis/runs/${runId}`);
    const bar = run.job && !['succeeded', 'failed'].includes(run.job.status) ? progressBar(run.job.progress, 'Run progress') : null;
    fill(el,
      h('div', { class: 'row spread' }, h('div', { class: 'row' }, h('a', { href: '/analysis?tab=runs', 'data-link': true }, '← Runs'), statusBadge(run.status), h('span', { class: 'muted small' }, `${run.extractor} · schema v${run.schemaVersion}`)),
        h('div', { class: 'row' }, actionButton('Export JSON', () => download(`/v1/analysis/runs/${run.id}/export.json`, {}, `analysis-${run.id}.json`)),
          actionButton('Export CSV', () => download(`/v1/analysis/runs/${run.id}/export.csv`, {}, `analysis-${run.id}.csv`)))),
      bar, run.error ? h('div', { class: 'alert error' }, run.error) : null,
      (run.documents || []).map((d) => h('section', { class: 'card' }, h('h3', {}, d.title || d.documentId), resultsTable(d.results, load))));
    if (bar && run.job) followJob(run.job.id, (job) => { bar.update(job.progress); if (['succeeded', 'failed'].includes(job.status)) load(); });
  };
  await load();
  return el;
}

function schemas(panel) {
  const list = pagedTable('/v1/analysis/schemas', [
    { label: 'Name', value: (s) => [s.name, s.description ? h('div', { class: 'small muted' }, s.description) : null] },
    { label: 'Fields', value: (s) => h('span', { class: 'small' }, s.fields.map((f) => f.name).join(', ')) },
    { label: 'Version', class: 'num', value: (s) => s.version },
    { label: '', value: (s) => h('span', { class: 'row' }, button('Edit', () => schemaDialog(s, () => list.refresh()), { kind: 'small' }),
      actionButton('Delete', async () => { if (await confirmDialog('Delete schema', `Delete ${s.name}?`, { danger: true, confirm: 'Delete' })) { await del(`/v1/analysis/schemas/${s.id}`); list.refresh(); } }, { kind: 'small danger' })) },
  ], { empty: emptyState('No schemas', 'A schema lists the fields to extract, e.g. invoice number, date and total.') });
  fill(panel, h('div', { class: 'row end' }, button('New schema', () => schemaDialog(null, () => list.refresh()), { kind: 'primary' })), list.el);
}

function schemaDialog(schema, changed) {
  const fields = (schema?.fields ?? [{ name: '', type: 'string', required: false }]).map((f) => ({ ...f }));
  const rows = h('div', { class: 'fields-editor' });
  const draw = () => fill(rows, fields.map((f, i) => h('div', { class: 'field-row' },
    h('div', {}, h('label', { for: `af-${i}-name` }, 'Field name'), h('input', { id: `af-${i}-name`, value: f.name, oninput: (e) => { f.name = e.target.value; } })),
    h('div', {}, h('label', { for: `af-${i}-description` }, 'Description'), h('input', { id: `af-${i}-description`, value: f.description ?? '', oninput: (e) => { f.description = e.target.value || undefined; } })),
    h('div', {}, h('label', { for: `af-${i}-type` }, 'Field type'), h('select', { id: `af-${i}-type`, onchange: (e) => { f.type = e.target.value; } }, FIELD_TYPES.map((t) => h('option', { value: t, selected: t === f.type }, t)))),
    h('div', { class: 'row' }, h('label', {}, h('input', { type: 'checkbox', checked: f.required, onchange: (e) => { f.required = e.target.checked; } }), ' Required'),
      button('Remove', () => { fields.splice(i, 1); draw(); }, { kind: 'small danger' })))));
  draw();
  const problems = h('div');
  const schemaForm = form([
    { name: 'name', label: 'Name', required: true, value: schema?.name },
    { name: 'description', label: 'Description', value: schema?.description ?? '' },
  ], async (values) => {
    fill(problems);
    const body = { name: values.name, description: values.description || null, fields: fields.map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined && v !== ''))) };
    try {
      if (schema) await patch(`/v1/analysis/schemas/${schema.id}`, body); else await post('/v1/analysis/schemas', body);
    } catch (error) {
      if (Array.isArray(error.details?.errors)) { fill(problems, h('ul', { class: 'error-text' }, error.details.errors.map((d) => h('li', {}, `${d.field}: ${d.message}`)))); }
      throw error;
    }
    close();
    changed();
  }, { submit: 'Save schema' });
  schemaForm.insertBefore(h('div', {}, h('h3', {}, 'Fields'), rows, problems, button('Add field', () => { fields.push({ name: '', type: 'string', required: false }); draw(); })), schemaForm.lastElementChild);
  const { close } = modal(schema ? `Edit ${schema.name}` : 'New schema', schemaForm, { wide: true });
}

