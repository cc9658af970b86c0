// The backend contract (tests/agent/backend-contract.ts) inside headless Chromium: onnxruntime-web
// wasm, and WebGPU on Chromium's software adapter. The page is the contract bundled by the same
// esbuild setup as the /agent page; onnxruntime-web's files come from a real collector.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openStore, startCollector } from '../../collector/index.ts';
import { bundleBrowserEntry } from '../../collector/server/agent-bundle.ts';
import { browserUnavailable, launchBrowser } from '../helpers/browser.ts';

const ENTRY = fileURLToPath(new URL('../agent/contract-page.ts', import.meta.url));
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

test('the backend contract passes in headless Chromium: ort-web wasm and webgpu', { skip: browserUnavailable(), timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-contract-'));
  const store = openStore({ path: join(dir, 'c.sqlite') });
  const collector = await startCollector({ store, token: 'contract-token-0123456789', port: 0 });
  const browser = await launchBrowser({ webgpu: true });
  try {
    const { code } = await bundleBrowserEntry(ENTRY);
    await browser.context.route(`${collector.url}/contract/**`, (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.endsWith('.js')) return route.fulfill({ status: 200, contentType: 'text/javascript', headers: ISOLATED, body: code });
      return route.fulfill({ status: 200, contentType: 'text/html', headers: ISOLATED, body: '<!doctype html><title>contract</title><script type="module" src="/contract/page.js"></script>' });
    });
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${collector.url}/contract/blank.html`);
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu) return 'navigator.gpu is missing';
      return (await gpu.requestAdapter()) ? null : 'navigator.gpu.requestAdapter() gave no adapter';
    });
    const providers = adapter === null ? ['wasm', 'webgpu'] : ['wasm'];
    if (adapter !== null) t.diagnostic(`webgpu contract skipped: ${adapter} in this Chromium`);
    await page.goto(`${collector.url}/contract/index.html?providers=${providers.join(',')}`);
    await page.waitForFunction(() => (globalThis as { __contract?: { done: boolean } }).__contract?.done === true, null, { timeout: 100_000 });
    const outcome = (await page.evaluate(() => (globalThis as { __contract?: unknown }).__contract)) as {
      results: Array<{ provider: string; name: string; ok: boolean; error?: string; ms: number }>;
      error?: string;
    };
    assert.equal(outcome.error, undefined, outcome.error);
    assert.deepEqual(errors, []);
    for (const r of outcome.results) t.diagnostic(`${r.ok ? 'ok' : 'FAIL'} ort-web:${r.provider} ${r.name} (${Math.round(r.ms)} ms)${r.error ? `: ${r.error}` : ''}`);
    const failed = outcome.results.filter((r) => !r.ok);
    assert.deepEqual(failed, [], 'every contract check passes in the browser');
    for (const p of providers) assert.equal(outcome.results.filter((r) => r.provider === p).length, 6, `all 6 checks ran for ${p}`);
  } finally {
    await browser.close();
    await collector.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
