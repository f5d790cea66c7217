// Chat with knowledge bases: conversations on the left, the answer streamed token by token, and
// numbered citations that open the cited page of the source document.
import { h, fill } from '../lib/dom.js';
import { get, post, patch, del, stream, items } from '../lib/api.js';
import { navigate, onLeave } from '../lib/router.js';
import { pageHeader, modal, button, errorBox, emptyState, toast, toastError, confirmDialog, form } from '../lib/ui.js';
import { formatRelative } from '../lib/format.js';
import { allKnowledgeBases, documentHref, snippet } from './knowledge-common.js';

export default async function render(view, { params }) {
  let conversationId = params.id || null;
  const [kbs, models, conversations, conversation, past] = await Promise.all([
    allKnowledgeBases(),
    get('/v1/models').then((m) => m.data.filter((x) => x.capabilities?.includes('chat'))).catch(() => []),
    get('/v1/conversations', { limit: 50 }).then(items).catch(() => []),
    conversationId ? get(`/v1/conversations/${conversationId}`) : null,
    conversationId ? get(`/v1/conversations/${conversationId}/messages`, { limit: 100 }).then(items) : [],
  ]);

  const link = (c) => h('a', { href: `/chat/${c.id}`, 'data-link': true, class: c.id === conversationId ? 'active' : '', title: c.title, 'aria-current': c.id === conversationId ? 'page' : false }, c.title || 'Untitled');
  const list = h('nav', { class: 'chat-list', 'aria-label': 'Conversations' },
    h('a', { href: '/chat', 'data-link': true, class: conversationId ? 'button' : 'button primary' }, 'New chat'),
    conversations.length ? conversations.map(link) : h('p', { class: 'muted small' }, 'No conversations yet.'));
  // A conversation started on this page joins the list at once and takes its title when the answer is done.
  const listNew = (c) => {
    list.querySelector('p')?.remove();
    list.querySelectorAll('a.active').forEach((a) => { a.classList.remove('active'); a.removeAttribute('aria-current'); });
    const item = link(c);
    list.children[0].after(item);
    return item;
  };

  const modelSelect = h('select', { id: 'chat-model' }, h('option', { value: '' }, 'Default model'),
    models.map((m) => h('option', { value: m.id, selected: m.id === conversation?.model }, m.id)));
  const kbChecks = h('div', { class: 'kb-checks', role: 'group', 'aria-label': 'Knowledge bases' }, kbs.map((kb) =>
    h('label', {}, h('input', { type: 'checkbox', value: kb.id, checked: conversation ? conversation.knowledgeBases.includes(kb.id) : true }), kb.name)));
  const checkedKbs = () => [...kbChecks.querySelectorAll('input:checked')].map((i) => i.value);
  // In a conversation, later turns read what is ticked now.
  kbChecks.addEventListener('change', async () => {
    if (!conversationId) return;
    try {
      await patch(`/v1/conversations/${conversationId}`, { knowledgeBases: checkedKbs() });
      toast('Later answers use the ticked knowledge bases');
    } catch (error) { toastError(error); }
  });
  const settings = h('div', { class: 'chat-settings' },
    h('label', { class: 'inline', for: 'chat-model' }, 'Model', modelSelect),
    kbs.length ? h('div', { class: 'row' }, h('span', { class: 'muted small' }, 'Knowledge bases:'), kbChecks) : h('span', { class: 'muted small' }, 'No knowledge bases: answers come from the model alone.'),
    conversation ? actions(conversation) : null);

  const messages = h('div', { class: 'messages', 'aria-live': 'polite' });
  const textarea = h('textarea', { id: 'chat-message', rows: 2, placeholder: 'Ask a question… (Enter sends, Shift+Enter for a new line)' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const stop = h('button', { type: 'button', hidden: true }, 'Stop');
  const composer = h('form', { class: 'composer' }, h('label', { for: 'chat-message', class: 'sr-only' }, 'Message'), textarea, send, stop);

  if (!past.length) messages.append(emptyState(conversation ? 'No messages' : 'Ask your documents', 'Answers cite the passages they come from; click a number to open the page.'));
  for (const m of past) messages.append(renderMessage(m, m.citations, conversationId));

  let running = null; // {controller, messageId}
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); }
  });
  stop.addEventListener('click', async () => {
    if (!running) return;
    if (running.messageId) post(`/v1/chat/${running.messageId}/cancel`).catch(() => {});
    running.controller.abort();
  });
  onLeave(() => running?.controller.abort());
  composer.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = textarea.value.trim();
    if (!text || running) return;
    messages.querySelector('.empty')?.remove();
    messages.append(h('div', { class: 'message user' }, text));
    textarea.value = '';
    const body = h('div', { class: 'message-text' });
    const meta = h('div', { class: 'meta' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Thinking…');
    const bubble = h('div', { class: 'message assistant', 'data-testid': 'assistant-message' }, body, meta);
    messages.append(bubble);
    messages.scrollTop = messages.scrollHeight;
    const citations = [];
    let content = '';
    running = { controller: new AbortController(), messageId: null };
    send.disabled = true;
    stop.hidden = false;
    const request = { message: text, stream: true };
    if (conversationId) request.conversationId = conversationId;
    else request.knowledgeBases = checkedKbs();
    let started = null; // the list entry of a conversation this message starts
    if (modelSelect.value) request.model = modelSelect.value;
    try {
      await stream('/v1/chat', {
        method: 'POST', body: request, signal: running.controller.signal,
        onEvent: (type, event) => {
          if (type === 'start') {
            running.messageId = event.messageId;
            if (!conversationId && event.conversationId) {
              conversationId = event.conversationId;
              // The URL follows the new conversation without reloading the page (the stream goes on).
              history.replaceState({}, '', `/chat/${conversationId}`);
              started = listNew({ id: conversationId, title: text });
            }
          } else if (type === 'indexing') {
            fill(meta, event.message);
          } else if (type === 'retrieval') {
            // A follow-up is searched as a standalone question: show what was searched.
            if (event.rewrite !== 'none') fill(meta, `Searched for: ${event.retrievalQuery}`);
          } else if (type === 'token') {
            content += event.content;
            fill(body, withCitations(content, citations));
            messages.scrollTop = messages.scrollHeight;
          } else if (type === 'citation') {
            citations.push(event);
            fill(body, withCitations(content, citations));
          } else if (type === 'done') {
            bubble.replaceWith(renderMessage({ id: event.messageId, role: 'assistant', content, status: event.status, model: event.model, latencyMs: event.latencyMs, completionTokens: event.usage.completionTokens, notice: event.notice, verification: event.verification }, citations, conversationId));
          } else if (type === 'error') {
            fill(meta, h('span', { class: 'error-text', role: 'alert' }, event.message));
          }
        },
      });
    } catch (error) {
      if (error.name === 'AbortError') fill(meta, 'Stopped.');
      else fill(meta, errorBox(error));
    } finally {
      running = null;
      if (started) {
        get(`/v1/conversations/${conversationId}`).then((c) => {
          fill(started, c.title);
          started.title = c.title;
          fill(view.querySelector('h1'), c.title);
          settings.append(actions(c));
        }).catch(() => {});
      }
      send.disabled = false;
      stop.hidden = true;
      textarea.focus();
    }
  });

  view.append(pageHeader(conversation?.title || 'Chat'),
    h('div', { class: 'chat' }, list, h('div', { class: 'chat-main' }, settings, messages, composer)));
  messages.scrollTop = messages.scrollHeight;
}

/** Text with `[n]` markers turned into buttons that open citation n. */
function withCitations(text, citations) {
  return text.split(/(\[\d+\])/).map((part) => {
    const n = part.match(/^\[(\d+)\]$/)?.[1];
    const citation = n && citations.find((c) => c.n === Number(n));
    if (!citation) return part;
    return h('button', { type: 'button', class: 'citation', 'aria-label': `Source ${n}: ${citation.documentTitle}${citation.page ? `, page ${citation.page}` : ''}`, onclick: () => showCitation(citation) }, n);
  });
}

/**
 * The answer with each checked sentence marked: supported (its quote on hover) or not
 * supported by the passage it cites. Offsets count Unicode code points, as the API does.
 */
function withVerification(text, verification, citations) {
  const sentences = verification?.sentences || [];
  if (!sentences.length) return withCitations(text, citations);
  const chars = Array.from(text);
  const parts = [];
  let at = 0;
  for (const s of sentences) {
    if (s.start < at || s.end > chars.length) continue;
    parts.push(withCitations(chars.slice(at, s.start).join(''), citations));
    const supported = s.status === 'supported';
    const hint = supported
      ? `Supported by [${s.support.n}]: “${s.support.quote}”`
      : 'Not supported: no cited passage says this';
    parts.push(h('span', { class: `claim ${s.status}`, title: hint, 'data-testid': `claim-${s.status}` },
      withCitations(chars.slice(s.start, s.end).join(''), citations)));
    at = s.end;
  }
  parts.push(withCitations(chars.slice(at).join(''), citations));
  return parts;
}

/** One line on the check of the answer's citations. */
function verificationSummary(v) {
  if (!v || !(v.supported + v.unsupported)) return null;
  const total = v.supported + v.unsupported;
  const how = v.method === 'extractive' ? 'quoted verbatim, verified by construction' : 'checked against the cited passages';
  return h('div', { class: `small ${v.unsupported ? 'warning-text' : 'muted'}`, 'data-testid': 'verification' },
    `Citations ${how}: ${v.supported} of ${total} sentence${total === 1 ? '' : 's'} supported`
    + (v.unsupported ? ` (${v.unsupported} not supported, underlined)` : ''));
}

function showCitation(c) {
  const { close } = modal(c.documentTitle, [
    h('p', { class: 'muted' }, c.page ? `Page ${c.page}` : 'No page number (not a paged document)'),
    h('blockquote', { class: 'chunk' }, snippet(c.snippet)),
    h('div', { class: 'row end' }, button(c.page ? `Open at page ${c.page}` : 'Open document', () => {
      close();
      navigate(documentHref(c.knowledgeBaseId, c.documentId, c.page));
    }, { kind: 'primary' })),
  ]);
}

function renderMessage(m, citations, conversationId) {
  if (m.role === 'user') return h('div', { class: 'message user' }, m.content);
  const cited = citations.filter((c) => m.content.includes(`[${c.n}]`));
  const sources = cited.length ? h('div', { class: 'meta' }, 'Sources:', cited.map((c) => h('button', { type: 'button', class: 'citation', onclick: () => showCitation(c) }, `${c.n}`), )) : null;
  const feedback = (rating) => button(rating === 'up' ? '👍' : '👎', async () => {
    try {
      const comment = rating === 'down' ? await askComment() : null;
      await post(`/v1/chat/${m.id}/feedback`, { rating, ...(comment ? { comment } : {}) });
      toast('Thanks for the feedback', 'success');
    } catch (error) { toastError(error); }
  }, { title: rating === 'up' ? 'Good answer' : 'Bad answer' });
  const branch = conversationId ? button('Branch', async () => {
    if (!await confirmDialog('Branch conversation', 'Start a new conversation with the messages up to this answer?', { confirm: 'Branch' })) return;
    try {
      const copy = await post(`/v1/conversations/${conversationId}/branch`, { messageId: m.id });
      navigate(`/chat/${copy.id}`);
    } catch (error) { toastError(error); }
  }, { title: 'New conversation from here' }) : null;
  return h('div', { class: 'message assistant', 'data-testid': 'assistant-message' },
    h('div', { class: 'message-text' }, withVerification(m.content, m.verification, citations)),
    m.error ? h('div', { class: 'error-text', role: 'alert' }, m.error) : null,
    m.notice ? h('div', { class: 'small muted' }, m.notice) : null,
    verificationSummary(m.verification),
    sources,
    h('div', { class: 'meta message-actions' },
      m.model ? h('span', {}, m.model) : null,
      m.latencyMs ? h('span', {}, `${(m.latencyMs / 1000).toFixed(1)} s`) : null,
      m.status && m.status !== 'completed' ? h('span', {}, m.status) : null,
      m.createdAt ? h('span', {}, formatRelative(m.createdAt)) : null,
      m.id ? [feedback('up'), feedback('down'), branch] : null));
}

function askComment() {
  return new Promise((resolve) => {
    let value = null;
    const { close } = modal('What was wrong?', form([{ name: 'comment', label: 'Comment (optional)', type: 'textarea', rows: 3 }],
      async ({ comment }) => { value = comment || null; close(); }, { submit: 'Send feedback' }), { onClose: () => resolve(value) });
  });
}

function actions(conversation) {
  return h('span', { class: 'row' },
    button('Rename', () => rename(conversation), { kind: 'small' }),
    button('New title', () => retitle(conversation), { kind: 'small', title: 'Let the model title the conversation again' }),
    button('Delete', () => remove(conversation), { kind: 'small danger' }));
}

function rename(conversation) {
  const { close } = modal('Rename conversation', form([
    { name: 'title', label: 'Title', value: conversation.title, required: true },
  ], async ({ title }) => {
    await patch(`/v1/conversations/${conversation.id}`, { title });
    close();
    navigate(`/chat/${conversation.id}`);
  }, { submit: 'Rename', cancel: () => close() }));
}

async function retitle(conversation) {
  try {
    await post(`/v1/conversations/${conversation.id}/title`);
    navigate(`/chat/${conversation.id}`);
  } catch (error) { toastError(error); }
}

async function remove(conversation) {
  if (!await confirmDialog('Delete conversation', `Delete “${conversation.title}” and its messages?`, { confirm: 'Delete', danger: true })) return;
  try {
    await del(`/v1/conversations/${conversation.id}`);
    navigate('/chat');
  } catch (error) { toastError(error); }
}
