// Shared by the browser scripts: launching Debian's Chromium, numbered steps with screenshots,
// and collecting what the page logs so that a script page error fails the test.

import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.LECTERN_URL;
const artifacts = process.env.ARTIFACTS || 'artifacts';
const fixtures = process.env.FIXTURES;
let page;
let browser;
let shot = 0;
const problems = [];

export async function open() {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.LECTERN_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(20_000);
  // Stripe's hosted Checkout cannot be reached here: answer for it, so arriving there is visible.
  await context.route(/^https:\/\/(checkout|billing)\.stripe\.test\//, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: '<h1>Stripe Checkout (test double)</h1>' }));
  page = watch(await context.newPage());
  return { page, base, fixtures };
}

/** A second person in their own browser profile (own storage, own login). */
export async function otherBrowser() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(20_000);
  return watch(await context.newPage());
}

function watch(target) {
  target.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  target.on('console', (message) => {
    // A failed API call is logged by the browser itself; the page shows those as messages.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  return target;
}

export async function step(name, run) {
  const started = Date.now();
  try {
    await run();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    console.log(`FAIL ${name}: ${error.message}`);
    await page.screenshot({ path: `${artifacts}/failure.png`, fullPage: true }).catch(() => {});
    console.log(`at ${page.url()}\n${problems.join('\n')}`);
    await browser.close();
    process.exit(1);
  }
  if (problems.length) {
    console.log(`FAIL ${name}: the page reported errors\n${problems.join('\n')}`);
    await browser.close();
    process.exit(1);
  }
}

export async function screenshot(name, target = page) {
  shot += 1;
  await target.screenshot({ path: `${artifacts}/${String(shot).padStart(2, '0')}-${name}.png`, fullPage: true });
}

/** Waits until the page has loaded what it shows (no spinner left). */
export async function settle() {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 15_000 }).catch(() => {});
}

/** An error box on a page that should work is a failure, with the API's message. */
export async function expectNoErrors(path) {
  const alerts = await page.locator('.alert.error').allInnerTexts();
  if (alerts.length) throw new Error(`${path} shows an error: ${alerts.join(' | ')}`);
}

export async function finish(result) {
  await browser.close();
  console.log(JSON.stringify(result));
}
