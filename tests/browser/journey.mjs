// A new administrator's first session, in a real Chromium: the setup wizard, login, a knowledge
// base with an uploaded PDF, search, chat with a citation, buying credits, and an entry that is
// translated and published. Then a tour of every main page (light, dark, phone) with screenshots.
// Run by tests/api/browser.rs against a real server; prints one JSON line with what it made.

import { open, otherBrowser, step, screenshot, expectNoErrors, finish, settle } from './lib.mjs';

const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'correct horse battery staple' };
const KB_NAME = 'Invoices';
const TITLES = { en: 'Spring launch', de: 'Frühlingsstart' };

const { page, base, fixtures } = await open();
const result = { titles: TITLES };
/** Follows a link of the sidebar. */
const nav = (name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();

await step('the setup wizard creates the administrator and the first tenant', async () => {
  await page.goto(`${base}/`);
  await page.waitForURL('**/setup');
  await page.getByLabel('Your name').fill(ADMIN.name);
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByLabel('Organisation name').fill('Acme Research');
  await screenshot('setup-wizard');
  await page.getByRole('button', { name: 'Create and continue' }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole('heading', { level: 1 }).waitFor();
});

await step('logging out and in again; a wrong password shows the API message', async () => {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: /email or password/i }).waitFor();
  await screenshot('login-error');
  // The second attempt with the keyboard only: Tab between the fields, Enter submits.
  await page.getByLabel('Email').focus();
  await page.keyboard.press('Tab');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type(ADMIN.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/`);
  await settle();
  await screenshot('overview');
});

await step('a knowledge base is created and a PDF uploaded reaches ready', async () => {
  await nav('Knowledge bases');
  await page.getByRole('button', { name: 'New knowledge base' }).first().click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill(KB_NAME);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/knowledge-bases\/[0-9a-f-]{36}$/);
  result.kbId = page.url().split('/').pop();
  await page.getByText('Visible to: Editors and admins').waitFor();
  await page.getByLabel('Choose files').setInputFiles([`${fixtures}/analysis/invoice.pdf`]);
  const row = page.getByTestId('document-row').filter({ hasText: 'invoice.pdf' });
  await row.getByText('ready', { exact: true }).waitFor({ timeout: 120_000 });
  await screenshot('knowledge-base');
  await row.click();
  await page.waitForURL(/\/documents\//);
  await settle();
  await screenshot('document-chunks');
});

await step('search finds the invoice in every mode', async () => {
  await nav('Search');
  await page.getByLabel('Query').fill('total amount due');
  for (const mode of ['Lexical', 'Semantic', 'Hybrid']) {
    await page.getByRole('radio', { name: mode }).check();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByTestId('search-result').first().filter({ hasText: 'invoice.pdf' }).waitFor();
  }
  await screenshot('search');
});

await step('chat streams an answer whose citation opens the source page', async () => {
  await nav('Chat');
  await page.getByLabel('Model').selectOption('fake-model');
  await page.getByLabel('Message').fill('What is the total of the invoice?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.getByTestId('assistant-message').last();
  await answer.getByText('handbook', { exact: false }).waitFor();
  // The fake model's sentence cites the invoice for something the invoice does not say: the
  // check marks it, and says so under the answer.
  await answer.getByTestId('claim-unsupported').waitFor();
  await answer.getByTestId('verification').getByText('0 of 1 sentence supported', { exact: false }).waitFor();
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/);
  // The new conversation joins the list at once and can be renamed there and then.
  const conversations = page.getByRole('navigation', { name: 'Conversations' });
  await conversations.locator('a[aria-current="page"]').waitFor();
  await page.getByRole('button', { name: 'Rename' }).click();
  const rename = page.getByRole('dialog');
  await rename.getByLabel('Title').fill('Invoice questions');
  await rename.getByRole('button', { name: 'Rename' }).click();
  await conversations.getByRole('link', { name: 'Invoice questions' }).waitFor();
  await page.getByRole('heading', { name: 'Invoice questions', level: 1 }).waitFor();
  await answer.locator('.citation').first().click();
  const source = page.getByRole('dialog');
  await source.getByText('invoice.pdf').first().waitFor();
  await source.getByText(/Page \d+/).first().waitFor();
  await screenshot('chat-citation');
  await source.getByRole('button', { name: /Open at page \d+/ }).click();
  await page.waitForURL(/\/documents\/[0-9a-f-]{36}\?page=\d+/);
});

await step('buying credits goes to Stripe Checkout', async () => {
  await nav('Billing');
  await page.getByRole('button', { name: 'Buy credits' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('radio').first().check();
  await screenshot('buy-credits');
  await dialog.getByRole('button', { name: 'Continue to checkout' }).click();
  await page.waitForURL(/^https:\/\/checkout\.stripe\.test\/c\/pay\//);
  await page.goto(`${base}/billing`);
});

await step('a site, a content type and an entry in two locales are published', async () => {
  await page.goto(`${base}/sites`);
  await page.getByRole('button', { name: 'New site' }).first().click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Newsroom');
  await dialog.getByLabel('Default locale').fill('en');
  await dialog.getByLabel('Locales').fill('en, de');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/sites\/[0-9a-f-]{36}$/);
  result.siteId = page.url().split('/').pop();

  await nav('Content types');
  await page.getByRole('button', { name: 'New content type' }).first().click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name', { exact: true }).fill('Article');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await page.waitForURL(/\/content\/types\/[0-9a-f-]{36}$/);
  await page.getByRole('button', { name: 'Add field' }).click();
  await page.getByLabel('Field name').last().fill('body');
  await page.getByLabel('Field type').last().selectOption('text');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText(/saved/i).first().waitFor();
  await screenshot('content-type');

  await nav('Entries');
  await page.getByRole('button', { name: 'New entry' }).first().click();
  dialog = page.getByRole('dialog');
  await dialog.getByLabel('Content type').selectOption({ label: 'Article' });
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Title', { exact: true }).fill(TITLES.en);
  await page.getByLabel('Body', { exact: true }).fill('We open in spring.');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/content\/entries\/[0-9a-f-]{36}/);
  await page.getByRole('button', { name: 'Publish', exact: true }).click();
  await page.getByText('published', { exact: true }).first().waitFor();

  await page.getByRole('tab', { name: 'Translations' }).click();
  await page.getByRole('button', { name: 'Add translation' }).click();
  await page.getByLabel('Locale').selectOption('de');
  const translation = page.locator('.side-by-side');
  await translation.getByLabel('Title', { exact: true }).last().fill(TITLES.de);
  await translation.getByLabel('Body', { exact: true }).last().fill('Wir öffnen im Frühling.');
  await screenshot('translation');
  await translation.getByRole('button', { name: 'Save', exact: true }).click();
  await translation.getByRole('button', { name: 'Publish', exact: true }).click();
  await translation.getByText('published', { exact: true }).first().waitFor();
});

await step('the published entry is on the public API in both locales', async () => {
  for (const locale of ['en', 'de']) {
    await page.goto(`${base}/public/v1/sites/${result.siteId}/entries?locale=${locale}`);
    await page.getByText(TITLES[locale]).first().waitFor();
  }
  await screenshot('public-api');
});

await step('an invited viewer joins and sees only what a viewer may do', async () => {
  await page.goto(`${base}/users`);
  await page.getByRole('button', { name: 'Invite' }).click();
  let dialog = page.getByRole('dialog');
  await dialog.getByLabel('Email').fill('vera@example.com');
  await dialog.getByLabel('Role').selectOption('viewer');
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  const link = await page.getByRole('dialog').getByTestId('secret').innerText();
  await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

  const vera = await otherBrowser();
  await vera.goto(link);
  await vera.getByText('vera@example.com is invited as viewer').waitFor();
  await vera.getByLabel('Your name').fill('Vera Viewer');
  await vera.getByLabel('Password').fill('another long passphrase');
  await vera.getByRole('button', { name: 'Accept invitation' }).click();
  await vera.waitForURL(`${base}/`);
  const sidebar = vera.getByRole('navigation', { name: 'Main' });
  await sidebar.getByRole('link', { name: 'Knowledge bases', exact: true }).waitFor();
  for (const hidden of ['API keys', 'Billing', 'Webhooks', 'Audit log']) {
    if (await sidebar.getByRole('link', { name: hidden, exact: true }).count()) throw new Error(`a viewer sees ${hidden}`);
  }
  await sidebar.getByRole('link', { name: 'Knowledge bases', exact: true }).click();
  await vera.getByRole('heading', { name: 'Knowledge bases', level: 1 }).waitFor();
  await vera.locator('.loading').first().waitFor({ state: 'detached' });
  if (await vera.getByRole('button', { name: 'New knowledge base' }).count()) throw new Error('a viewer may create knowledge bases');
  // The journey's knowledge base is private (the default): a viewer is told why the list is empty.
  await vera.getByText('No knowledge bases shared with you').waitFor();
  await screenshot('viewer-knowledge-bases', vera);
  await vera.context().close();
});

await step('single sign-on with the configured OpenID Connect provider', async () => {
  const sso = await otherBrowser();
  await sso.goto(`${base}/login`);
  const button = sso.getByRole('link', { name: 'Continue with Test SSO' });
  await button.waitFor();
  await screenshot('login-with-sso', sso);
  await button.click();
  await sso.waitForURL(`${base}/`);
  await sso.getByRole('heading', { name: 'Hello, Ada' }).waitFor();
  await sso.context().close();
});

await step('every main page renders without errors in light, dark and phone layouts', async () => {
  const pages = ['/', '/knowledge-bases', `/knowledge-bases/${result.kbId}`, '/search', '/chat', '/analysis', '/sites',
    `/sites/${result.siteId}`, '/content/entries', '/content/types', '/content/elements', '/media', '/users', '/api-keys',
    '/webhooks', '/billing', '/audit', '/settings'];
  for (const [scheme, width] of [['light', 1280], ['dark', 1280], ['light', 390]]) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width, height: width > 500 ? 860 : 844 });
    for (const path of pages) {
      await page.goto(`${base}${path}`);
      await settle();
      await expectNoErrors(path);
      const name = path === '/' ? 'home' : path.slice(1).replace(/[0-9a-f-]{36}/g, 'id').replace(/\//g, '-');
      await screenshot(`${scheme}-${width}-${name}`);
    }
  }
});

await finish(result);
