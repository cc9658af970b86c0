// The backend registry loads a runtime on first use: importing it loads neither onnxruntime-node
// nor onnxruntime-web, and creating one backend loads that runtime alone. Checked in a fresh Node
// process whose module resolution is watched by a loader hook (module.register).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// the hook posts every resolved URL to the main thread; the script reports which runtimes were
// resolved after each step
const HOOK = `export async function initialize({ port }) { globalThis.port = port; }
export async function resolve(specifier, context, next) { const r = await next(specifier, context); globalThis.port.postMessage(r.url); return r; }`;
const SCRIPT = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on('message', (u) => seen.push(u));
port1.unref();
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), { data: { port: port2 }, transferList: [port2] });
const settle = () => new Promise((r) => setTimeout(r, 200));
const runtimes = () => ['onnxruntime-node', 'onnxruntime-web'].filter((p) => seen.some((u) => u.includes('/node_modules/' + p + '/')));
const steps = {};
const registry = await import('./agent/backends/registry.ts');
await settle();
steps.imported = runtimes();
steps.registryResolved = seen.some((u) => u.endsWith('/agent/backends/registry.ts'));
const node = await registry.createBackend('ort-node', { threads: 1 });
await node.dispose();
await settle();
steps.afterOrtNode = runtimes();
const web = await registry.createBackend('ort-web', { threads: 1 });
await web.dispose();
await settle();
steps.afterOrtWeb = runtimes();
process.stdout.write(JSON.stringify(steps));
`;

test('importing the backend registry loads no runtime; each backend loads its own on first use', { timeout: 60_000 }, () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 50_000 });
  assert.equal(res.status, 0, res.stderr);
  const steps = JSON.parse(res.stdout) as Record<string, unknown>;
  // the watcher sees the registry itself, so an empty list below means something
  assert.equal(steps.registryResolved, true, res.stdout);
  assert.deepEqual(steps.imported, [], 'importing the registry loads no runtime');
  assert.deepEqual(steps.afterOrtNode, ['onnxruntime-node'], 'ort-node loads onnxruntime-node only');
  assert.deepEqual(steps.afterOrtWeb, ['onnxruntime-node', 'onnxruntime-web']);
});
