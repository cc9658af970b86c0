// The /agent page keeps its token out of the address bar (issue 16, defect 7): the link's
// ?token= is removed on load (history.replaceState) and kept in the tab's session storage, so a
// reload still connects while history, bookmarks and Referers never hold it. Headless Chromium
// against a real collector on 127.0.0.1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { openStore, startCollector, type Collector, type SqliteStore } from '../../collector/index.ts';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';
import { TEST_TOKEN, waitUntil } from '../helpers/raw-agent.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-page-token-'));
let store: SqliteStore;
let collector: Collector;
before(async () => {
  store = openStore({ path: join(dir, 'p.sqlite') });
  collector = await startCollector({ store, token: TEST_TOKEN, port: 0, host: '127.0.0.1' });
});
after(async () => {
  await collector.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const status = (page: Page) => page.evaluate(() => (globalThis as unknown as { hwlat?: { status: string; message: string } }).hwlat ?? { status: 'loading', message: '' });
const agents = async () => ((await (await fetch(`${collector.url}/api/health`)).json()) as { agents: number }).agents;

test('the page drops ?token= from its address, keeps it for reloads in session storage, and sends no Referer', { skip: browserUnavailable(), timeout: 120_000 }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.context.newPage();
    const response = await page.goto(`${collector.url}/agent?token=${TEST_TOKEN}&backend=wasm&maxJobs=1`);
    assert.equal(response?.headers()['referrer-policy'], 'no-referrer');
    await waitUntil(async () => ['idle', 'error'].includes((await status(page)).status), 60_000, 'the page to connect');
    assert.equal((await status(page)).status, 'idle', (await status(page)).message);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('token'), null, `address bar: ${page.url()}`);
    assert.equal(url.searchParams.get('backend'), 'wasm', 'the other parameters stay');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('hwlat.token')), TEST_TOKEN);
    assert.ok(!(await page.evaluate(() => location.href)).includes(TEST_TOKEN));

    // a reload has no token in its URL, and still connects with the stored one
    await page.reload();
    await waitUntil(async () => ['idle', 'error'].includes((await status(page)).status), 60_000, 'the reloaded page to connect');
    assert.equal((await status(page)).status, 'idle', (await status(page)).message);
    await waitUntil(async () => (await agents()) >= 1, 5000, 'the collector to count the page');

    // another tab (its own session storage) opened without the token does not get it
    const other = await browser.context.newPage();
    await other.goto(`${collector.url}/agent?backend=wasm`);
    await waitUntil(async () => (await status(other)).status === 'error', 30_000, 'the tokenless page to say why');
    assert.match((await status(other)).message, /no 'token'/);
  } finally {
    await browser.close();
  }
});

/** What a person sees of the page's progress: each part's visibility and text. */
const shown = (page: Page) => page.evaluate(() => {
  // no named functions in here: tsx would wrap them in a helper the page does not have
  const [bar, stop, progressText] = ['progress', 'stop', 'progress-text'].map((id) => (document.getElementById(id)?.getClientRects().length ?? 0) > 0);
  return { bar, stop, progressText, text: document.body.innerText };
});

test('without a token, or with a wrong one, the page shows only the error: no progress bar, no job counts, no Stop button', { skip: browserUnavailable(), timeout: 120_000 }, async () => {
  const browser = await launchBrowser();
  try {
    for (const [what, query, message] of [
      ['no token', '?backend=wasm', /no 'token' in the page's URL: open the link `hwlat serve --print-link` \(or `hwlat demo`\) prints/],
      ['a wrong token', '?backend=wasm&token=wrong-token-0123456789', /the collector refused this page's token: open the link `hwlat serve --print-link` \(or `hwlat demo`\) prints/],
    ] as const) {
      const page = await browser.context.newPage();
      await page.goto(`${collector.url}/agent${query}`);
      await waitUntil(async () => (await status(page)).status === 'error', 60_000, `the page with ${what} to say why`);
      assert.match((await status(page)).message, message, what);
      const s = await shown(page);
      assert.deepEqual({ bar: s.bar, stop: s.stop, progressText: s.progressText }, { bar: false, stop: false, progressText: false }, `${what}: ${s.text}`);
      assert.doesNotMatch(s.text, /waiting|jobs|Stop/, `${what}: only the error: ${s.text}`);
      assert.match(s.text, message);
      // a refused token is not kept for a reload
      assert.equal(await page.evaluate(() => sessionStorage.getItem('hwlat.token')), null, what);
      await page.close();
    }
    // with the right token the progress and the Stop button are there
    const page = await browser.context.newPage();
    await page.goto(`${collector.url}/agent?token=${TEST_TOKEN}&backend=wasm`);
    await waitUntil(async () => ['idle', 'error'].includes((await status(page)).status), 60_000, 'the page to connect');
    assert.equal((await status(page)).status, 'idle', (await status(page)).message);
    const s = await shown(page);
    assert.deepEqual({ bar: s.bar, stop: s.stop, progressText: s.progressText }, { bar: true, stop: true, progressText: true }, s.text);
    assert.match(s.text, /no jobs for this device yet/);
    assert.match(s.text, /this tab: 0 results · 0 stored/);
  } finally {
    await browser.close();
  }
});
