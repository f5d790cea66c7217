// Who is logged in and in which tenant. Tokens live in localStorage so a reload keeps the login;
// the access token is short-lived and renewed with the refresh token before it runs out.

const TOKENS = 'lectern.tokens';
const TENANT = 'lectern.tenant';
const listeners = new Set();

export const session = {
  tokens: read(TOKENS),
  me: null, // GET /v1/auth/me: {user, memberships}
  tenantId: localStorage.getItem(TENANT),

  get loggedIn() { return Boolean(this.tokens?.accessToken); },
  get user() { return this.me?.user ?? null; },
  get membership() {
    return this.me?.memberships.find((m) => m.tenantId === this.tenantId) ?? null;
  },
  /** The caller may do `permission` (e.g. `kb.write`) in the current tenant. */
  can(permission) {
    return Boolean(this.membership?.permissions.includes(permission));
  },
  get isSuperadmin() { return Boolean(this.me?.user.isSuperadmin); },

  setTokens(tokens) {
    this.tokens = tokens && {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: new Date(tokens.expiresAt).getTime(),
    };
    write(TOKENS, this.tokens);
  },
  setMe(me) {
    this.me = me;
    const known = me.memberships.some((m) => m.tenantId === this.tenantId);
    if (!known) this.setTenant(me.memberships[0]?.tenantId ?? null, { quiet: true });
    emit();
  },
  setTenant(tenantId, { quiet = false } = {}) {
    this.tenantId = tenantId;
    if (tenantId) localStorage.setItem(TENANT, tenantId); else localStorage.removeItem(TENANT);
    if (!quiet) emit();
  },
  /** The site content pages work on, remembered per tenant. */
  get siteId() { return localStorage.getItem(`lectern.site.${this.tenantId}`); },
  set siteId(id) {
    const key = `lectern.site.${this.tenantId}`;
    if (id) localStorage.setItem(key, id); else localStorage.removeItem(key);
  },
  clear() {
    this.tokens = null;
    this.me = null;
    localStorage.removeItem(TOKENS);
    emit();
  },
  onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); },
};

function emit() { for (const listener of listeners) listener(session); }

function read(key) {
  try { return JSON.parse(localStorage.getItem(key)); } catch { return null; }
}

function write(key, value) {
  if (value) localStorage.setItem(key, JSON.stringify(value)); else localStorage.removeItem(key);
}

// Another tab logged out or in: follow it.
window.addEventListener('storage', (event) => {
  if (event.key === TOKENS) {
    session.tokens = read(TOKENS);
    emit();
  }
});
