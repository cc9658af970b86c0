import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { profileKernelsWasm } from '../../agent/backends/ort-web-kernels.ts';
import { buildOnnx, getSpace, importNetwork, importOnnx, kernels, lowerNetwork, sampleArchs, SPACES } from '../../ops-library/index.ts';
import { torchvisionModels } from '../helpers/torchvision.ts';
import { coverageErrors, describeDiff, kernelDiff } from './kernel-truth.ts';

// The wasm rule set's test: onnxruntime-web's wasm backend in Node, profiled (ort-web-kernels.ts).
// wasm cannot write its optimised graph (optimizedModelFilePath crashes its file system glue), so
// the profile's nodes are joined to the source graph by name: op and shapes are the runtime's,
// attributes only the source node's geometry and fused activation.
const WASM_ATTRS = ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'activation'];
const truthOf = async (bytes: Uint8Array) => (await profileKernelsWasm(bytes, { runs: 1, warmup: 0, threads: 1 })).kernels;


test('ort-wasm: torchvision models decompose into the kernels onnxruntime-web runs (no NCHWc: FusedConv, Conv+Add fusion)', async (t) => {
  const models = torchvisionModels(t);
  if (!models) return;
  for (const [name, path] of models) {
    const bytes = readFileSync(path);
    const ir = importOnnx(bytes);
    const detected = kernels(ir, 'ort-wasm');
    assert.deepEqual(coverageErrors(ir.nodes.map((n) => n.name), detected), [], name);
    assert.ok(!detected.some((k) => k.op.startsWith('com.microsoft.nchwc')), `${name}: wasm has no NCHWc kernels`);
    const d = kernelDiff(detected, await truthOf(bytes), { attrs: WASM_ATTRS });
    assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(name, d));
    t.diagnostic(`${name}: ${detected.length} kernels, all equal onnxruntime-web's`);
  }
});

test("ort-wasm: sampled networks of every built-in space decompose into onnxruntime-web's kernels", async () => {
  for (const name of Object.keys(SPACES)) {
    const space = getSpace(name);
    for (const arch of space.positions.length > 0 ? sampleArchs(space, { count: 4, seed: 31 }) : ['']) {
      const net = space.expand(arch);
      const detected = kernels(importNetwork(net, { batch: 1 }), 'ort-wasm');
      const d = kernelDiff(detected, await truthOf(buildOnnx(lowerNetwork(net), { batch: 1 })), { attrs: WASM_ATTRS });
      assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(`${name} ${arch}`, d));
    }
  }
});

test('ort-wasm and ort-cpu differ where the runtimes do: the same ResNet block is NCHWc Sum fusion on CPU, FusedConv with a Sum input on wasm', () => {
  const ir = importNetwork(getSpace('resnet18').expand(''));
  const cpu = kernels(ir, 'ort-cpu');
  const wasm = kernels(ir, 'ort-wasm');
  assert.ok(cpu.some((k) => k.op === 'com.microsoft.nchwc:Conv' && k.inputs.length === 4));
  assert.ok(wasm.some((k) => k.op === 'com.microsoft:FusedConv' && k.inputs.length === 4 && k.attrs.activation === 'Relu'));
  assert.ok(!wasm.some((k) => k.op.includes('Reorder')));
});
