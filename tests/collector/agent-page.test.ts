// The collector's /agent routes and the esbuild bundle behind them: no Node-only module in the
// page, onnxruntime-web's runtime files served from node_modules and nothing else, isolation headers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore, startCollector, type Collector } from '../../collector/index.ts';
import { AGENT_PAGE_ENTRY, bundleBrowserEntry } from '../../collector/server/agent-bundle.ts';

const dir = mkdtempSync(join(tmpdir(), 'hwlat-agent-page-'));
const store = openStore({ path: join(dir, 'p.sqlite') });
let collector: Collector;
before(async () => {
  collector = await startCollector({ store, token: 'page-token-0123456789', port: 0 });
});
after(async () => {
  await collector?.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the page bundle shares the agent loop, harness, protocol and ops-library, and holds nothing Node-only', async () => {
  const { code, inputs } = await bundleBrowserEntry(AGENT_PAGE_ENTRY);
  for (const shared of ['agent/client/loop.ts', 'agent/transport/ws-client.ts', 'agent/harness/harness.ts', 'agent/profiler.ts', 'protocol/messages.ts', 'ops-library/onnx/builder.ts', 'agent/browser/ws-shim.ts']) {
    assert.ok(inputs.includes(shared), `${shared} is in the bundle`);
  }
  const nodeOnly = inputs.filter((i) => /node_modules\/(ws|better-sqlite3|onnxruntime-node|systeminformation)\/|agent\/transport\/outbox\.ts|agent\/fingerprint\.ts|^collector\//.test(i));
  assert.deepEqual(nodeOnly, []);
  assert.ok(inputs.some((i) => i.startsWith('node_modules/onnxruntime-web/dist/ort.min.mjs')), "onnxruntime-web's build without inlined wasm");
  assert.ok(code.length > 100_000);
});

test('a Node-only import fails the bundle and names its importer', async () => {
  const entry = join(dir, 'bad-entry.ts');
  writeFileSync(entry, "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n");
  await assert.rejects(bundleBrowserEntry(entry), /'node:fs' \(imported by .*bad-entry\.ts\) is Node-only/);
  await assert.rejects(bundleBrowserEntry(''), { name: 'TypeError', message: /'entry'/ });
});

test('GET /agent serves the page, its bundle and onnxruntime-web files, cross-origin isolated', async () => {
  const page = await fetch(`${collector.url}/agent?token=page-token-0123456789`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.equal(page.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(page.headers.get('cross-origin-embedder-policy'), 'require-corp');
  const html = await page.text();
  assert.match(html, /data-ws-path="\/ws"/);
  assert.match(html, /<progress id="progress"/);
  assert.match(html, /src="\/agent\/app\.js"/);

  const app = await fetch(`${collector.url}/agent/app.js`);
  assert.equal(app.status, 200);
  assert.match(app.headers.get('content-type') ?? '', /javascript/);
  assert.ok((await app.text()).length > 100_000);

  const wasm = await fetch(`${collector.url}/agent/ort/ort-wasm-simd-threaded.jsep.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer()).slice(0, 4)], [0, 0x61, 0x73, 0x6d], 'a wasm module');
  for (const bad of ['ort.node.min.js', '..%2F..%2Fpackage.json', 'ort-wasm-simd-threaded.wasm.map']) {
    const r = await fetch(`${collector.url}/agent/ort/${bad}`);
    assert.equal(r.status, 404, bad);
    await r.body?.cancel();
  }
});
