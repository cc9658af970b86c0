// The backend contract against onnxruntime-web's wasm in Node (what browsers run, measured here).
// The same checks run in headless Chromium in tests/e2e/browser-contract.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBackend } from '../../agent/backends/registry.ts';
import { createOrtWebBackend } from '../../agent/backends/ort-web.ts';
import { runTest } from './run-contract.ts';

runTest({ label: 'ort-web:wasm (node)', backend: 'ort-web', provider: 'wasm', create: createOrtWebBackend });

test('ort-web is registered: createBackend("ort-web:wasm") works, webgpu fails in Node with a hint', async () => {
  const b = await createBackend('ort-web:wasm', { threads: 1 });
  assert.equal(b.info.backend, 'ort-web');
  await b.dispose();
  await assert.rejects(createBackend('ort-web:webgpu', { threads: 1 }), { message: /could not load execution provider 'webgpu'.*navigator\.gpu/ });
  // threads are fixed for the process once onnxruntime-web started
  await assert.rejects(createBackend('ort-web:wasm', { threads: 3 }), { name: 'RangeError', message: /'threads' is 3 but onnxruntime-web already runs with 1/ });
});
