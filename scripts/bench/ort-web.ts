// What a browser's runtime costs: the same models through onnxruntime-node (cpu), onnxruntime-web's
// wasm in Node, and onnxruntime-web in headless Chromium (wasm; --webgpu adds Chromium's WebGPU,
// a software adapter here), all 1 thread, measured by the same harness in interleaved rounds.
// Also prints each runtime's clock resolution and the inferences per sample the backend chose.
// Usage: npx tsx scripts/bench/ort-web.ts [--json] [--min-time 300] [--no-browser] [--webgpu]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createBackend } from '../../agent/backends/registry.ts';
import type { LoadedModel } from '../../agent/backends/types.ts';
import { measureInterleaved } from '../../agent/harness/harness.ts';
import { timerResolutionMs } from '../../agent/harness/timer.ts';
import { openStore, startCollector } from '../../collector/index.ts';
import { bundleBrowserEntry } from '../../collector/server/agent-bundle.ts';
import { launchBrowser } from '../../tests/helpers/browser.ts';
import { benchModels } from './ort-web-models.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'min-time': { type: 'string', default: '300' },
    'no-browser': { type: 'boolean', default: false },
    webgpu: { type: 'boolean', default: false },
  },
});
const minTimeMs = Number(args['min-time']);

interface Column {
  runtime: string;
  timerResolutionMs: number;
  rows: Array<{ name: string; median: number; cv: number; runsPerSample: number }>;
}

async function inNode(spec: string): Promise<Column> {
  const backend = await createBackend(spec, { threads: 1 });
  const models = benchModels();
  const loaded: LoadedModel[] = [];
  for (const [, bytes] of models) loaded.push(await backend.load(bytes));
  const { results } = await measureInterleaved(loaded, { warmup: 3, minRepeats: 20, minTimeMs });
  await backend.dispose();
  return {
    runtime: `${spec} (node)`,
    timerResolutionMs: timerResolutionMs(),
    rows: models.map(([name], i) => ({ name, median: results[i]!.stats.median, cv: results[i]!.stats.cv, runsPerSample: loaded[i]!.runsPerSample ?? 1 })),
  };
}

async function inChromium(provider: string): Promise<Column> {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-bench-ortweb-'));
  const store = openStore({ path: join(dir, 'b.sqlite') });
  const collector = await startCollector({ store, token: 'bench-token-0123456789', port: 0 });
  const browser = await launchBrowser({ webgpu: provider === 'webgpu' });
  try {
    const { code } = await bundleBrowserEntry(fileURLToPath(new URL('./ort-web-page.ts', import.meta.url)));
    const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    await browser.context.route(`${collector.url}/bench/**`, (route) =>
      route.request().url().endsWith('.js')
        ? route.fulfill({ contentType: 'text/javascript', headers, body: code })
        : route.fulfill({ contentType: 'text/html', headers, body: '<!doctype html><script type="module" src="/bench/page.js"></script>' }),
    );
    const page = await browser.context.newPage();
    await page.goto(`${collector.url}/bench/index.html?provider=${provider}&minTimeMs=${minTimeMs}`);
    await page.waitForFunction(() => (globalThis as { __bench?: unknown }).__bench !== undefined, null, { timeout: 600_000 });
    const out = (await page.evaluate(() => (globalThis as { __bench?: unknown }).__bench)) as Column & { error?: string };
    if (out.error) throw new Error(out.error);
    return { runtime: `ort-web:${provider} (chromium)`, timerResolutionMs: out.timerResolutionMs, rows: out.rows };
  } finally {
    await browser.close();
    await collector.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const columns: Column[] = [await inNode('ort-node:cpu'), await inNode('ort-web:wasm')];
if (!args['no-browser']) columns.push(await inChromium('wasm'));
if (args.webgpu) columns.push(await inChromium('webgpu'));

if (args.json) {
  process.stdout.write(`${JSON.stringify({ minTimeMs, columns }, null, 2)}\n`);
} else {
  const base = columns[0]!;
  const head = ['model', ...columns.map((c) => `${c.runtime} ms (×)`)];
  const lines = base.rows.map((r, i) => [
    r.name,
    ...columns.map((c) => {
      const row = c.rows[i]!;
      return `${row.median.toFixed(3)} (${(row.median / r.median).toFixed(1)}×)${row.runsPerSample > 1 ? ` k=${row.runsPerSample}` : ''}`;
    }),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, j) => c.padEnd(widths[j]!)).join(' | ')} |`;
  console.log(fmt(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(fmt(l));
  console.log(`clock resolution: ${columns.map((c) => `${c.runtime} ${(c.timerResolutionMs * 1000).toFixed(2)} µs`).join('; ')}`);
  console.log('k = inferences per timed sample chosen by the backend (shown when > 1)');
}
