// Knowledge bases of the tenant: list, and a dialog to create one.
import { h } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { session } from '../lib/session.js';
import { navigate } from '../lib/router.js';
import { pageHeader, pagedTable, emptyState, button, modal, form, badge } from '../lib/ui.js';
import { formatBytes, formatNumber, formatRelative } from '../lib/format.js';
import { VISIBILITY_LABELS, VISIBILITY_OPTIONS } from './knowledge-common.js';

export default async function render(view) {
  const canWrite = session.can('kb.write');
  const create = () => createDialog();
  const list = pagedTable('/v1/knowledge-bases', [
    { label: 'Name', value: (kb) => h('a', { href: `/knowledge-bases/${kb.id}`, 'data-link': true }, kb.name) },
    { label: 'Documents', class: 'num', value: (kb) => formatNumber(kb.documents) },
    { label: 'Chunks', class: 'num', value: (kb) => formatNumber(kb.chunks) },
    { label: 'Size', class: 'num', value: (kb) => formatBytes(kb.bytes) },
    { label: 'Status', value: statusSummary },
    { label: 'Visible to', value: (kb) => badge(VISIBILITY_LABELS[kb.visibility] ?? kb.visibility) },
    { label: 'Updated', value: (kb) => formatRelative(kb.updatedAt) },
  ], {
    query: { sort: '-createdAt' },
    onRowClick: (kb) => navigate(`/knowledge-bases/${kb.id}`),
    empty: canWrite
      ? emptyState('No knowledge bases yet', 'A knowledge base holds documents (PDF, DOCX, HTML, Markdown, text) that search and chat answer from.',
        button('New knowledge base', create, { kind: 'primary' }))
      : emptyState('No knowledge bases shared with you', 'Private knowledge bases are visible to editors and admins only; ask one of them to share a knowledge base with the tenant.'),
  });
  view.append(
    pageHeader('Knowledge bases', { subtitle: 'Documents that search and chat answer from.', actions: canWrite ? [button('New knowledge base', create, { kind: 'primary' })] : [] }),
    list.el);
}

function statusSummary(kb) {
  const s = kb.status;
  return h('span', { class: 'row' },
    s.processing + s.queued ? badge(`${s.processing + s.queued} indexing`, 'warn') : null,
    s.failed ? badge(`${s.failed} failed`, 'bad') : null,
    badge(`${s.ready} ready`, 'ok'));
}

function createDialog() {
  const { close } = modal('New knowledge base', form([
    { name: 'name', label: 'Name', required: true, attrs: { autofocus: true } },
    { name: 'description', label: 'Description', type: 'textarea', rows: 2 },
    { name: 'visibility', label: 'Visibility', type: 'select', value: 'private', options: VISIBILITY_OPTIONS },
    { name: 'chunkMaxTokens', label: 'Chunk size (tokens)', type: 'number', placeholder: 'default', help: 'Leave empty for the default; smaller chunks give more precise citations.' },
    { name: 'chunkOverlapTokens', label: 'Chunk overlap (tokens)', type: 'number', placeholder: 'default' },
  ], async (values) => {
    const body = { name: values.name, description: values.description, visibility: values.visibility };
    if (values.chunkMaxTokens !== null) body.chunkMaxTokens = values.chunkMaxTokens;
    if (values.chunkOverlapTokens !== null) body.chunkOverlapTokens = values.chunkOverlapTokens;
    const kb = await post('/v1/knowledge-bases', body);
    close();
    navigate(`/knowledge-bases/${kb.id}`);
  }, { submit: 'Create', cancel: () => close() }));
}
