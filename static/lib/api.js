// The one way pages talk to the server: the public REST API, with the caller's token and tenant.
// Errors arrive as ApiError carrying the API's own message, code and details.

import { session } from './session.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}`);
    this.status = status;
    this.code = body?.error || 'ERROR';
    this.details = body?.details ?? null;
    this.requestId = body?.requestId ?? null;
  }

  /** The message for one form field, when the API named it (`details.field` or `details.errors`). */
  fieldMessage(field) {
    if (this.details?.field === field) return this.message;
    const found = this.details?.errors?.find?.((e) => e.field === field);
    return found?.message ?? null;
  }
}

let refreshing = null;
let onExpired = () => {};

/** Called when the login cannot be renewed (the app sends the user to the login page). */
export function whenSessionExpires(callback) { onExpired = callback; }

export function url(path, query) {
  const target = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => target.searchParams.append(key, v));
    else target.searchParams.set(key, value);
  }
  return target.pathname + target.search;
}

/** Headers for an authenticated call in the current tenant. */
export async function authHeaders(extra = {}) {
  await freshToken();
  const headers = { ...extra };
  if (session.tokens?.accessToken) headers.Authorization = `Bearer ${session.tokens.accessToken}`;
  if (session.tenantId && !('X-Tenant-ID' in headers)) headers['X-Tenant-ID'] = session.tenantId;
  return headers;
}

/**
 * api('/v1/sites', {method: 'POST', body: {...}}) → parsed JSON (null for 204).
 * Options: query, body (JSON or FormData), headers, signal, raw (return the Response).
 */
export async function api(path, { method = 'GET', query, body, headers = {}, signal, raw = false, retried = false } = {}) {
  const init = { method, signal, headers: await authHeaders(headers) };
  if (body instanceof FormData || body instanceof Blob) init.body = body;
  else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path, query), init);
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { error: 'NETWORK', message: `Cannot reach the server (${error.message}).` });
  }
  if (response.status === 401 && session.tokens?.refreshToken && !retried && !path.startsWith('/v1/auth/login')) {
    if (await refresh()) return api(path, { method, query, body, headers, signal, raw, retried: true });
  }
  if (!response.ok) throw new ApiError(response.status, await errorBody(response));
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

export const get = (path, query, options) => api(path, { ...options, query });
export const post = (path, body, options) => api(path, { ...options, method: 'POST', body });
export const put = (path, body, options) => api(path, { ...options, method: 'PUT', body });
export const patch = (path, body, options) => api(path, { ...options, method: 'PATCH', body });
export const del = (path, options) => api(path, { ...options, method: 'DELETE' });

/** Follows a paged list (`{items, nextCursor}` or `{data, …}`) until `limit` items. */
export function items(page) {
  if (Array.isArray(page)) return page;
  return page?.items ?? page?.data ?? [];
}

async function errorBody(response) {
  try {
    const body = await response.json();
    if (body && typeof body === 'object') return body;
  } catch { /* not JSON */ }
  return { error: 'HTTP_' + response.status, message: `${response.status} ${response.statusText}`.trim() };
}

/** Renews the access token shortly before it expires, once for all concurrent callers. */
async function freshToken() {
  const tokens = session.tokens;
  if (!tokens?.refreshToken || tokens.expiresAt - Date.now() > 30_000) return;
  await refresh();
}

async function refresh() {
  if (!refreshing) {
    const refreshToken = session.tokens?.refreshToken;
    refreshing = (async () => {
      try {
        const response = await fetch('/v1/auth/refresh', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ refreshToken }),
        });
        if (!response.ok) throw new Error('refresh refused');
        session.setTokens(await response.json());
        return true;
      } catch {
        session.clear();
        onExpired();
        return false;
      } finally {
        refreshing = null;
      }
    })();
  }
  return refreshing;
}

/**
 * Uploads a FormData with progress (fetch cannot report upload progress; XMLHttpRequest can).
 * onProgress(fraction 0..1). Resolves with the parsed JSON answer, rejects with ApiError.
 */
export async function upload(path, form, { method = 'POST', query, onProgress, signal } = {}) {
  const headers = await authHeaders();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url(path, query));
    for (const [key, value] of Object.entries(headers)) xhr.setRequestHeader(key, value);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress?.(e.loaded / e.total);
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* empty */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body || { message: `${xhr.status} ${xhr.statusText}` }));
    };
    xhr.onerror = () => reject(new ApiError(0, { error: 'NETWORK', message: 'The upload was interrupted: cannot reach the server.' }));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}

/**
 * Reads a text/event-stream answer (POST /v1/chat, GET /v1/jobs/{id}/events) and calls
 * onEvent(type, data) for each event; data is parsed JSON when it is JSON.
 */
export async function stream(path, { method = 'GET', body, signal, onEvent }) {
  const response = await api(path, { method, body, signal, raw: true, headers: { Accept: 'text/event-stream' } });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)[0].length + end);
      dispatch(block, onEvent);
    }
  }
  if (buffer.trim()) dispatch(buffer, onEvent);
}

function dispatch(block, onEvent) {
  let type = 'message';
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return;
  const text = data.join('\n');
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* plain text */ }
  onEvent(type, parsed);
}

/** Downloads an authenticated file (CSV exports, originals) as the browser's own download. */
export async function download(path, query, filename) {
  const response = await api(path, { query, raw: true });
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href, download: filename || '' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
