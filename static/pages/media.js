// The media library of the current site: folders, uploads with progress, thumbnails, and
// per-file details (alt text and caption per locale, folder, usage, replace, delete).
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, upload, items } from '../lib/api.js';
import { session } from '../lib/session.js';
import { setQuery, refresh } from '../lib/router.js';
import { pageHeader, button, actionButton, modal, form, confirmDialog, toast, emptyState, errorBox, loading } from '../lib/ui.js';
import { formatBytes, formatDate } from '../lib/format.js';
import { currentSite, sitePicker, noSite } from './content-common.js';
import { progressBar } from './knowledge-common.js';

export default async function render(view, { query }) {
  const { sites, site } = await currentSite();
  if (!site) { view.append(pageHeader('Media'), noSite()); return; }
  const base = `/v1/sites/${site.id}`;
  const canWrite = session.can('media.write');
  const folders = items(await get(`${base}/media-folders`, { limit: 100 }));
  let folder = query.get('folder') || '';
  let search = query.get('q') || '';
  const grid = h('div');
  const queue = h('ul', { class: 'upload-queue', 'aria-label': 'Uploads' });

  async function load() {
    fill(grid, loading());
    try {
      const result = await get(`${base}/media`, { folderId: folder || undefined, q: search || undefined, limit: 100 });
      const files = items(result);
      fill(grid, files.length ? h('div', { class: 'media-grid' }, files.map((m) => tile(m))) : emptyState('No files here', canWrite ? 'Upload images and documents to use them in entries.' : ''));
    } catch (error) { fill(grid, errorBox(error)); }
  }
  const tile = (m) => h('figure', {},
    h('button', { class: 'tile', 'aria-label': `Details of ${m.name}`, onclick: () => details(m) },
      m.mime.startsWith('image/') ? h('img', { src: `${m.url}?w=300`, alt: m.alt?.[site.defaultLocale] || '', loading: 'lazy' }) : h('div', { class: 'file-icon' }, m.mime.split('/')[1] || 'file')),
    h('figcaption', { title: m.name }, m.name));

  function details(m) {
    const locales = site.locales;
    const usage = h('div', { class: 'small muted' }, 'Checking where it is used…');
    get(`${base}/media/${m.id}/usage`).then((u) => fill(usage, (u.entries?.length || u.data?.length) ? `Used by ${(u.entries || u.data).map((e) => e.title || e.name).join(', ')}` : 'Not used by any entry.')).catch(() => fill(usage));
    const replaceInput = h('input', { type: 'file', id: 'media-replace', class: 'sr-only', onchange: async () => {
      const data = new FormData();
      data.append('file', replaceInput.files[0]);
      try { await upload(`${base}/media/${m.id}/file`, data, { method: 'PUT' }); toast('File replaced', 'success'); close(); load(); } catch (error) { toast(error.message, 'error'); }
    } });
    const { close } = modal(m.name, [
      h('div', { class: 'media-detail' },
        m.mime.startsWith('image/') ? h('img', { src: `${m.url}?w=600`, alt: m.alt?.[site.defaultLocale] || '' }) : null,
        h('dl', { class: 'facts' }, h('dt', {}, 'Type'), h('dd', {}, m.mime), h('dt', {}, 'Size'), h('dd', {}, formatBytes(m.size)),
          m.width ? [h('dt', {}, 'Pixels'), h('dd', {}, `${m.width} × ${m.height}`)] : null,
          h('dt', {}, 'Uploaded'), h('dd', {}, formatDate(m.createdAt)), h('dt', {}, 'URL'), h('dd', {}, h('a', { href: m.url, target: '_blank', rel: 'noopener' }, m.url)))),
      usage,
      canWrite ? form([
        { name: 'name', label: 'Name', value: m.name, required: true },
        ...locales.map((l) => ({ name: `alt_${l}`, label: `Alt text (${l})`, value: m.alt?.[l] ?? '', help: l === site.defaultLocale ? 'Describes the image for people who cannot see it.' : '' })),
        ...locales.map((l) => ({ name: `caption_${l}`, label: `Caption (${l})`, value: m.caption?.[l] ?? '' })),
        { name: 'folderId', label: 'Folder', type: 'select', value: m.folderId ?? '', options: [['', 'No folder'], ...folders.map((f) => [f.id, f.name])] },
      ], async (values) => {
        const alt = Object.fromEntries(locales.map((l) => [l, values[`alt_${l}`] || null]));
        const caption = Object.fromEntries(locales.map((l) => [l, values[`caption_${l}`] || null]));
        await patch(`${base}/media/${m.id}`, { name: values.name, alt, caption, folderId: values.folderId || null });
        toast('Saved', 'success');
        close();
        load();
      }) : null,
      canWrite ? h('div', { class: 'row spread' },
        h('label', { for: 'media-replace', class: 'button' }, 'Replace file', replaceInput),
        actionButton('Delete', async () => {
          if (!await confirmDialog('Delete file', `Delete ${m.name}? Entries that use it lose it.`, { confirm: 'Delete', danger: true })) return;
          await del(`${base}/media/${m.id}`);
          close();
          load();
        }, { kind: 'danger' })) : null,
    ], { wide: true });
  }

  async function send(files) {
    await Promise.all([...files].map(async (file) => {
      const bar = progressBar(0, `Upload of ${file.name}`);
      const state = h('span', { class: 'small muted' }, 'uploading');
      const item = h('li', {}, h('span', { class: 'name' }, file.name), h('span', { class: 'small muted' }, formatBytes(file.size)), bar, state);
      queue.prepend(item);
      const data = new FormData();
      data.append('file', file, file.name);
      try {
        await upload(`${base}/media`, data, { query: { folderId: folder && folder !== 'root' ? folder : undefined }, onProgress: (f) => bar.update(Math.round(f * 100)) });
        item.remove();
      } catch (error) {
        fill(state, h('span', { class: 'error-text', role: 'alert' }, error.message));
      }
    }));
    load();
  }

  const picker = h('input', { type: 'file', multiple: true, id: 'media-files', class: 'sr-only', onchange: () => { send(picker.files); picker.value = ''; } });
  const zone = canWrite ? h('div', { class: 'dropzone' }, 'Drop files here, or ', h('label', { for: 'media-files', class: 'button primary' }, 'Upload files'), picker) : null;
  zone?.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone?.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone?.addEventListener('drop', (e) => { e.preventDefault(); zone.classList.remove('over'); send(e.dataTransfer.files); });

  const folderNav = h('nav', { class: 'folders', 'aria-label': 'Folders' },
    [['', 'All files'], ['root', 'Not in a folder'], ...folders.map((f) => [f.id, f.name])].map(([id, name]) =>
      h('button', { class: id === folder ? 'active' : '', 'aria-pressed': String(id === folder), onclick: () => { folder = id; setQuery({ folder: id }); refreshFolders(); load(); } }, name)),
    canWrite ? button('New folder', () => folderDialog(base), { kind: 'small' }) : null);
  const refreshFolders = () => folderNav.querySelectorAll('button[aria-pressed]').forEach((b, i) => {
    const id = ['', 'root', ...folders.map((f) => f.id)][i];
    b.classList.toggle('active', id === folder);
    b.setAttribute('aria-pressed', String(id === folder));
  });
  const searchBox = h('input', { type: 'search', id: 'media-q', value: search, placeholder: 'Name or alt text', onchange: (e) => { search = e.target.value; setQuery({ q: search }); load(); } });
  view.append(
    pageHeader('Media', { subtitle: sitePicker(sites, site) }),
    zone, queue,
    h('div', { class: 'media-layout' }, folderNav, h('div', {}, h('div', { class: 'row' }, h('label', { for: 'media-q' }, 'Search'), searchBox), grid)));
  await load();
}

function folderDialog(base) {
  const { close } = modal('New folder', form([{ name: 'name', label: 'Name', required: true }], async ({ name }) => {
    await post(`${base}/media-folders`, { name });
    close();
    refresh();
  }, { submit: 'Create', cancel: () => close() }));
}
