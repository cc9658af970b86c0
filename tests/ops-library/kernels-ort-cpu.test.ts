import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { profileKernels } from '../../agent/backends/ort-kernels.ts';
import { buildOnnx, getSpace, importNetwork, importOnnx, kernels, lowerNetwork, sampleArchs, SPACES } from '../../ops-library/index.ts';
import { torchvisionModels } from '../helpers/torchvision.ts';
import { coverageErrors, describeDiff, kernelDiff } from './kernel-truth.ts';
import { attr, floatTensor, tinyModel } from './onnx-test-models.ts';

// The CPU rule set's test: what kernel detection says ORT runs (ort-cpu: ORT 1.30, level 'all',
// NCHWc block 16 on this AVX-512 machine) against what ORT runs, read from its optimised graph and
// profiler (agent/backends/ort-kernels.ts), node for node.
const truthOf = async (bytes: Uint8Array) => (await profileKernels(bytes, { runs: 1, warmup: 0 })).kernels;


test('ort-cpu: every torchvision model decomposes into exactly the kernels ORT runs', async (t) => {
  const models = torchvisionModels(t);
  if (!models) return;
  for (const [name, path] of models) {
    const bytes = readFileSync(path);
    const ir = importOnnx(bytes);
    const detected = kernels(ir, 'ort-cpu');
    assert.deepEqual(coverageErrors(ir.nodes.map((n) => n.name), detected), [], name);
    const d = kernelDiff(detected, await truthOf(bytes));
    assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(name, d));
    t.diagnostic(`${name}: ${detected.length} kernels, all equal ORT's`);
  }
});

test("ort-cpu: sampled networks of every built-in space decompose into ORT's kernels", async () => {
  for (const name of Object.keys(SPACES)) {
    const space = getSpace(name);
    const archs = space.positions.length > 0 ? sampleArchs(space, { count: 6, seed: 29 }) : [''];
    for (const arch of archs) {
      const net = space.expand(arch);
      // the space's own IR (no ONNX bytes) is what detection sees; ORT runs the built model
      const detected = kernels(importNetwork(net, { batch: 1 }), 'ort-cpu');
      const d = kernelDiff(detected, await truthOf(buildOnnx(lowerNetwork(net), { batch: 1 })));
      assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(`${name} ${arch}`, d));
    }
  }
});

/** conv(x) → [node] → conv → + conv(x): the node sits on a blocked tensor that two kernels read */
function around(node: Parameters<typeof tinyModel>[0]['nodes'][number], extra: Parameters<typeof tinyModel>[0]['initializers'] = []): Uint8Array {
  const conv = (x: string, w: string, y: string) => ['Conv', [x, w, 'b'], [y], [attr.ints('pads', [1, 1, 1, 1])]] as [string, string[], string[], ReturnType<typeof attr.int>[]];
  return tinyModel({
    inputs: [['x', [1, 16, 8, 8]]],
    outputs: ['y'],
    initializers: [floatTensor('w', [16, 16, 3, 3]), floatTensor('w2', [16, 16, 3, 3]), floatTensor('b', [16]), ...extra],
    nodes: [conv('x', 'w', 'c'), node, conv('h', 'w2', 'y1'), ['Add', ['c', 'y1'], ['y']]],
  });
}

test('ort-cpu rules, one by one, against ORT: activations fused, run blocked or reordered; HardSwish, SiLU, per-channel Mul, channel alignment, decomposed LayerNorms', async () => {
  const scalar = (name: string, v: number) => floatTensor(name, [], () => v);
  const cases: Array<[string, Uint8Array]> = [
    ['Relu on a two-reader Conv (runs blocked)', around(['Relu', ['c'], ['h']])],
    ['LeakyRelu (reordered to NCHW)', around(['LeakyRelu', ['c'], ['h'], [attr.float('alpha', 0.1)]])],
    ['Clip 0..6 (reordered)', around(['Clip', ['c', 'lo', 'hi'], ['h']], [scalar('lo', 0), scalar('hi', 6)])],
    ['HardSwish (HardSigmoid and Mul, blocked)', around(['HardSwish', ['c'], ['h']])],
    ['Mul by a per-channel constant (a depthwise 1×1 blocked Conv)', around(['Mul', ['c', 'pc'], ['h']], [floatTensor('pc', [1, 16, 1, 1])])],
    ['Mul by a scalar (reordered)', around(['Mul', ['c', 's'], ['h']], [scalar('s', 2)])],
    ['BatchNormalization (a depthwise blocked Conv)', around(['BatchNormalization', ['c', 'b', 'b', 'b', 'b'], ['h']])],
    ['Erf (reordered)', around(['Erf', ['c'], ['h']])],
  ];
  const chain = (act: Parameters<typeof tinyModel>[0]['nodes'], extra: Parameters<typeof tinyModel>[0]['initializers'] = []) =>
    tinyModel({
      inputs: [['x', [1, 16, 8, 8]]],
      outputs: ['y'],
      initializers: [floatTensor('w', [16, 16, 3, 3]), floatTensor('w2', [16, 16, 3, 3]), floatTensor('b', [16]), ...extra],
      nodes: [['Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]], ...act, ['Conv', ['h', 'w2', 'b'], ['y'], [attr.ints('pads', [1, 1, 1, 1])]]],
    });
  cases.push(
    ['Conv → HardSwish (the blocked Conv activation HardSwish)', chain([['HardSwish', ['c'], ['h']]])],
    ['Conv → SiLU (QuickGelu, blocked)', chain([['Sigmoid', ['c'], ['s']], ['Mul', ['c', 's'], ['h']]])],
    ['Conv → Clip (FusedConv activation params)', chain([['Clip', ['c', 'lo', 'hi'], ['h']]], [scalar('lo', 0), scalar('hi', 6)])],
    ['Conv → LeakyRelu → Tanh', chain([['LeakyRelu', ['c'], ['l'], [attr.float('alpha', 0.2)]], ['Tanh', ['l'], ['h']]])],
  );
  // channels the block does not divide: 24 (aligned to 4: padded to 32) and 26 (not aligned: plain FusedConv)
  for (const c of [24, 26]) {
    cases.push([`${c} channels`, tinyModel({
      inputs: [['x', [1, c, 8, 8]]],
      outputs: ['y'],
      initializers: [floatTensor('w', [c, c, 1, 1]), floatTensor('dw', [c, 1, 3, 3]), floatTensor('b', [c])],
      nodes: [
        ['Conv', ['x', 'w', 'b'], ['c1'], []], ['Relu', ['c1'], ['r']],
        ['Conv', ['r', 'dw', 'b'], ['c2'], [attr.int('group', c), attr.ints('pads', [1, 1, 1, 1])]],
        ['Conv', ['c2', 'w', 'b'], ['c3'], []], ['Add', ['c3', 'x'], ['a']], ['Relu', ['a'], ['y']],
      ],
    })]);
  }
  // LayerNorm as exporters wrote it before opset 17, and its RMS (simplified) half
  const lnInits = [floatTensor('two', [], () => 2), floatTensor('eps', [], () => 1e-5), floatTensor('gamma', [64]), floatTensor('beta', [64])];
  const variance = (x: string): Parameters<typeof tinyModel>[0]['nodes'] => [
    ['Pow', [x, 'two'], ['sq']], ['ReduceMean', ['sq'], ['var'], [attr.ints('axes', [-1])]], ['Add', ['var', 'eps'], ['ve']], ['Sqrt', ['ve'], ['sd']],
    ['Div', [x, 'sd'], ['n']], ['Mul', ['n', 'gamma'], ['s']],
  ];
  cases.push(
    ['decomposed LayerNorm (LayerNormalization)', tinyModel({
      inputs: [['x', [1, 50, 64]]], outputs: ['y'], initializers: lnInits, opset: 13,
      nodes: [['Relu', ['x'], ['r']], ['ReduceMean', ['r'], ['m'], [attr.ints('axes', [-1])]], ['Sub', ['r', 'm'], ['d']], ...variance('d'), ['Add', ['s', 'beta'], ['y']]],
    })],
    ['RMS norm (SimplifiedLayerNormalization)', tinyModel({
      inputs: [['x', [1, 50, 64]]], outputs: ['y'], initializers: lnInits, opset: 13,
      nodes: [['Relu', ['x'], ['r']], ...variance('r'), ['Tanh', ['s'], ['y']]],
    })],
  );
  for (const [label, bytes] of cases) {
    const d = kernelDiff(kernels(importOnnx(bytes), 'ort-cpu'), await truthOf(bytes));
    assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(label, d));
  }
});

test('kernel detection: unknown runtime names are refused, listing the known ones; every source node is covered once', () => {
  const ir = importNetwork(getSpace('resnet18').expand(''));
  assert.throws(() => kernels(ir, 'ort-gpu'), /unknown runtime rule set 'ort-gpu'; known: ort-cpu, ort-cpu-nchwc8, ort-wasm/);
  const ks = kernels(ir, 'ort-cpu');
  const covered = ks.flatMap((k) => k.nodes);
  assert.equal(new Set(covered).size, covered.length, 'a source node covered twice');
  assert.deepEqual(new Set(covered), new Set(ir.nodes.map((n) => n.name)));
});

test("the NCHWc block is a parameter of the CPU rules: AVX2's 8 pads 24 channels to 24, AVX-512's 16 to 32", () => {
  const ir = importOnnx(tinyModel({
    inputs: [['x', [1, 24, 8, 8]]],
    outputs: ['y'],
    initializers: [floatTensor('w', [24, 24, 3, 3]), floatTensor('w2', [8, 24, 1, 1])],
    nodes: [['Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]], ['Relu', ['c'], ['r']], ['Conv', ['r', 'w2'], ['y']]],
  }));
  const convOutputs = (runtime: string) => kernels(ir, runtime).filter((k) => k.op === 'com.microsoft.nchwc:Conv').map((k) => k.outputs[0]?.[1]);
  assert.deepEqual(convOutputs('ort-cpu'), [32, 16]);
  assert.deepEqual(convOutputs('ort-cpu-nchwc8'), [24, 8]);
});
