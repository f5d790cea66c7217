// First run: create the platform administrator and the first tenant, then log in.
import { h, fill } from '../lib/dom.js';
import { post } from '../lib/api.js';
import { form } from '../lib/ui.js';
import { startSession } from '../app.js';

export default async function render(view, { setupStatus }) {
  document.title = 'Set up · Lectern';
  if (setupStatus?.bootstrapped) {
    fill(view, h('div', { class: 'card' }, h('h1', {}, 'Already set up'), h('p', {}, 'This server has an administrator. ', h('a', { href: '/login', 'data-link': true }, 'Log in'))));
    return;
  }
  const steps = h('ol', { class: 'muted small' }, h('li', {}, 'Your administrator account'), h('li', {}, 'Your first tenant (your organisation)'), h('li', {}, 'Then: sites, knowledge bases, users'));
  const setup = form([
    { name: 'name', label: 'Your name', required: true, attrs: { autocomplete: 'name' } },
    { name: 'email', label: 'Email', type: 'email', required: true, attrs: { autocomplete: 'email' } },
    { name: 'password', label: 'Password', type: 'password', required: true, help: 'At least 10 characters.', attrs: { autocomplete: 'new-password' } },
    { name: 'tenant', label: 'Organisation name', required: true, placeholder: 'Acme' },
  ], async (values) => {
    await post('/v1/auth/setup', { name: values.name, email: values.email, password: values.password, tenant: { name: values.tenant } });
    const tokens = await post('/v1/auth/login', { email: values.email, password: values.password });
    await startSession(tokens, '/');
  }, { submit: 'Create and continue', testid: 'setup-form' });
  fill(view, h('div', { class: 'card' }, h('h1', {}, 'Welcome to Lectern'), h('p', {}, 'Set up this server in one step.'), steps, setup));
}
