import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildOnnx, getSpace, importOnnx, lowerNetwork } from '../../ops-library/index.ts';
import { hwlat } from '../helpers/cli.ts';

test('hwlat onnx strip and onnx kernels: a small file that imports to the same graph, its kernels per runtime; bad input is a clear error and exit 1', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hwlat-onnx-cli-'));
  try {
    const bytes = buildOnnx(lowerNetwork(getSpace('resnet18').expand('')), { dynamicBatch: true });
    const model = join(dir, 'resnet18.onnx');
    writeFileSync(model, bytes);
    const out = join(dir, 'small.onnx');
    const r = await hwlat(['onnx', 'strip', model, out, '--input-shape', '2x3x224x224', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(r.stdout);
    assert.equal(res.bytesIn, bytes.byteLength);
    assert.ok(res.bytesOut < bytes.byteLength / 50 && res.strippedTensors > 10, r.stdout);
    const a = importOnnx(bytes, { inputShape: [2, 3, 224, 224] });
    const b = importOnnx(readFileSync(out), { inputShape: [2, 3, 224, 224] });
    assert.deepEqual(b.nodes, a.nodes);

    // a symbolic batch without --input-shape: the message says what to pass
    const sym = await hwlat(['onnx', 'strip', model, join(dir, 'x.onnx')]);
    assert.equal(sym.code, 1);
    assert.match(sym.stderr, /symbolic dimensions \[batch, 3, 224, 224\]; pass its concrete shape with --input-shape/);
    const notOnnx = join(dir, 'notes.txt');
    writeFileSync(notOnnx, 'hello, not a model');
    const bad = await hwlat(['onnx', 'strip', notOnnx, join(dir, 'y.onnx')]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /hwlat: error: not an ONNX model/);
    const shape = await hwlat(['onnx', 'strip', model, join(dir, 'z.onnx'), '--input-shape', '1x3xa']);
    assert.notEqual(shape.code, 0);
    assert.match(shape.stderr, /'--input-shape' must be positive integers joined by 'x'/);
    const missing = await hwlat(['onnx', 'strip', join(dir, 'nope.onnx'), join(dir, 'w.onnx')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read ONNX file/);
    const help = await hwlat(['onnx', 'strip', '--help']);
    assert.match(help.stdout, /Examples:/);

    // the kernels of the stripped model: ORT's fused convolutions with their Sum inputs and reorders
    const k = await hwlat(['onnx', 'kernels', out, '--input-shape', '1x3x224x224', '--json']);
    assert.equal(k.code, 0, k.stderr);
    const res2 = JSON.parse(k.stdout);
    assert.equal(res2.runtime, 'ort-cpu');
    assert.ok(res2.kernels.some((x: { op: string; inputs: unknown[] }) => x.op === 'com.microsoft.nchwc:Conv' && x.inputs.length === 4));
    assert.ok(res2.kernels.length < res2.nodes, `${res2.kernels.length} kernels for ${res2.nodes} nodes`);
    const text = await hwlat(['onnx', 'kernels', out, '--input-shape', '1x3x224x224', '--runtime', 'ort-wasm']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /run as \d+ kernels on ort-wasm/);
    assert.match(text.stdout, /com\.microsoft:FusedConv\s+Relu/);
    const unknown = await hwlat(['onnx', 'kernels', out, '--input-shape', '1x3x224x224', '--runtime', 'tpu']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown runtime rule set 'tpu'; known: ort-cpu, ort-cpu-nchwc8, ort-wasm/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
