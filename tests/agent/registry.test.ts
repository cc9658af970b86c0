import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, createBackend, listBackends, parseBackendSpec } from '../../agent/backends/registry.ts';

test('parseBackendSpec splits name and provider', () => {
  assert.deepEqual(parseBackendSpec('ort-node:cpu'), { name: 'ort-node', provider: 'cpu' });
  assert.deepEqual(parseBackendSpec('ort-node'), { name: 'ort-node' });
  assert.deepEqual(parseBackendSpec(' ort-node:cuda '), { name: 'ort-node', provider: 'cuda' });
});

test('parseBackendSpec rejects malformed specs and unknown names', () => {
  assert.throws(() => parseBackendSpec('ort-node:'), { name: 'RangeError', message: /'spec' must look like/ });
  assert.throws(() => parseBackendSpec(':cpu'), { name: 'RangeError' });
  assert.throws(() => parseBackendSpec('a:b:c'), { name: 'RangeError' });
  assert.throws(() => parseBackendSpec(42 as unknown as string), { name: 'TypeError', message: /'spec'/ });
  assert.throws(() => parseBackendSpec('tflite:cpu'), { name: 'RangeError', message: /unknown backend 'tflite'; known backends: ort-node/ });
});

test('createBackend throws a RangeError naming an unknown backend and listing the known ones', async () => {
  await assert.rejects(createBackend('tensorflow'), {
    name: 'RangeError',
    message: /unknown backend 'tensorflow'; known backends: .*ort-node/,
  });
  // a name inherited from Object.prototype is not a backend either
  await assert.rejects(createBackend('toString'), { name: 'RangeError', message: /'toString'/ });
});

test('createBackend accepts a spec string and checks it against options.provider', async () => {
  const backend = await createBackend('ort-node:cpu', { threads: 1 });
  assert.equal(backend.info.provider, 'cpu');
  assert.equal(backend.info.threads, 1);
  await backend.dispose();
  await assert.rejects(createBackend('ort-node:cpu', { provider: 'cuda' }), { name: 'RangeError', message: /'options.provider' is 'cuda'/ });
});

test('the backend registry is frozen', () => {
  assert.ok(Object.isFrozen(BACKENDS));
  assert.deepEqual(listBackends(), ['ort-node', 'ort-web']);
});
