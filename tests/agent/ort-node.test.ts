import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeInfoSchema } from '../../protocol/index.ts';
import { createOrtNodeBackend, listProviders } from '../../agent/backends/ort-node.ts';
import { probeModel, tinyConv, tinyMatMul } from './models.ts';

test('ort-node loads the probe model, runs it and reports output shapes with dynamic dims at 1', async () => {
  const backend = await createOrtNodeBackend({ threads: 1 });
  try {
    assert.equal(backend.info.backend, 'ort-node');
    assert.equal(backend.info.provider, 'cpu');
    assert.equal(backend.info.threads, 1);
    assert.match(backend.info.version, /^\d+\.\d+\.\d+/);
    RuntimeInfoSchema.parse(backend.info);
    const model = await backend.load(probeModel());
    await model.run();
    await model.run();
    assert.deepEqual(await model.outputShapes(), { output: [1, 16] });
  } finally {
    await backend.dispose();
  }
});

test('ort-node feeds initializer-weighted models and reports their inferred output shapes', async () => {
  const backend = await createOrtNodeBackend({ threads: 1, graphOptimizationLevel: 'basic' });
  try {
    const conv = await backend.load(tinyConv());
    const mm = await backend.load(tinyMatMul());
    // outputShapes before any run() makes a run itself
    assert.deepEqual(await conv.outputShapes(), { output: [1, 8, 6, 6] });
    assert.deepEqual(await mm.outputShapes(), { output: [1, 16] });
    await conv.dispose();
    await mm.run();
  } finally {
    await backend.dispose();
  }
});

test('ort-node defaults threads to 0 (runtime default)', async () => {
  const backend = await createOrtNodeBackend({});
  assert.equal(backend.info.threads, 0);
  await backend.dispose();
});

test('ort-node rejects bad options with typed errors', async () => {
  await assert.rejects(createOrtNodeBackend({ threads: -1 }), { name: 'RangeError', message: /'threads' must be an integer >= 0.*got -1/ });
  await assert.rejects(createOrtNodeBackend({ threads: 1.5 }), { name: 'RangeError', message: /'threads'/ });
  await assert.rejects(createOrtNodeBackend({ provider: 'tpu' }), { name: 'RangeError', message: /'provider' "tpu".*known: .*cpu/ });
  await assert.rejects(
    createOrtNodeBackend({ graphOptimizationLevel: 'max' as 'all' }),
    { name: 'RangeError', message: /'graphOptimizationLevel' must be one of disabled, basic, extended, all/ },
  );
  const backend = await createOrtNodeBackend({ threads: 1 });
  try {
    await assert.rejects(backend.load('model.onnx' as unknown as Uint8Array), { name: 'TypeError', message: /'model'/ });
    await assert.rejects(backend.load(new Uint8Array([1, 2, 3])));
  } finally {
    await backend.dispose();
  }
});

test('ort-node names a provider that cannot load and suggests hwlat setup', async (t) => {
  const cuda = (await listProviders()).find((p) => p.name === 'cuda');
  if (!cuda || cuda.loads) return t.skip('cuda is usable on this machine');
  await assert.rejects(createOrtNodeBackend({ provider: 'cuda' }), (e: Error) => {
    assert.match(e.message, /execution provider 'cuda'/);
    assert.match(e.message, /hwlat setup --cuda/);
    return true;
  });
});

test('listProviders reports cpu as loading and every failure with its reason', async () => {
  const providers = await listProviders();
  const cpu = providers.find((p) => p.name === 'cpu');
  assert.deepEqual(cpu, { name: 'cpu', bundled: true, loads: true });
  for (const p of providers) {
    if (!p.loads) assert.ok(p.error && p.error.length > 0, `${p.name} failed without a reason`);
  }
});
