import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildOnnx, features, lowerSpec, OPS, opDef, outputShape, specKey, UnknownKeyError, validateSpec, type OpSpec,
} from '../../ops-library/index.ts';
import { runOnnx } from '../helpers/ort.ts';

/** One example per registered op; a new op without an example fails the coverage test below. */
const EXAMPLES: Record<string, OpSpec[]> = {
  conv2d: [
    { op: 'conv2d', input: [8, 16, 16], out: 12, kernel: 3 },
    { op: 'conv2d', input: [8, 15, 15], out: 8, kernel: 3, stride: 2, padding: 2, groups: 2, dilation: 2, bias: true },
  ],
  dwconv: [{ op: 'dwconv', input: [16, 14, 14], kernel: 5, stride: 2 }],
  pwconv: [{ op: 'pwconv', input: [16, 8, 8], out: 32, groups: 2 }],
  batchnorm: [{ op: 'batchnorm', input: [8, 5, 5] }],
  relu: [{ op: 'relu', input: [4, 6, 6] }],
  relu6: [{ op: 'relu6', input: [4, 6, 6] }],
  hswish: [{ op: 'hswish', input: [4, 6, 6] }],
  sigmoid: [{ op: 'sigmoid', input: [10] }],
  maxpool: [{ op: 'maxpool', input: [8, 12, 12], kernel: 3, stride: 2, padding: 1 }],
  avgpool: [{ op: 'avgpool', input: [8, 12, 12], kernel: 2 }],
  global_avgpool: [{ op: 'global_avgpool', input: [8, 7, 7] }],
  linear: [{ op: 'linear', input: [64], out: 10 }],
  add: [{ op: 'add', input: [8, 4, 4], arity: 3 }],
  concat: [{ op: 'concat', input: [8, 4, 4], channels: [4, 12] }],
  squeeze_excite: [{ op: 'squeeze_excite', input: [16, 8, 8], reduction: 4, gate: 'hsigmoid' }],
  channel_shuffle: [{ op: 'channel_shuffle', input: [12, 4, 4], groups: 3 }],
  conv_bn_act: [
    { op: 'conv_bn_act', input: [3, 32, 32], out: 16, kernel: 3, stride: 2, act: 'hswish' },
    { op: 'conv_bn_act', name: 'Conv_1', input: [320, 7, 7], out: 1280, kernel: 1, act: 'relu6' },
  ],
  expanded_conv: [
    { op: 'expanded_conv', input: [16, 28, 28], out: 24, expand: 6, kernel: 5, stride: 2, idskip: false },
    { op: 'expanded_conv', input: [24, 14, 14], out: 24, expand: 3, kernel: 7, stride: 1, idskip: true },
    { op: 'expanded_conv', input: [32, 14, 14], out: 16, expand: 1, kernel: 3, stride: 1, idskip: false },
  ],
  logits: [{ op: 'logits', input: [64, 4, 4], classes: 10 }],
  basic_block: [
    { op: 'basic_block', input: [16, 16, 16], out: 32, stride: 2 },
    { op: 'basic_block', input: [16, 8, 8], out: 16, stride: 1 },
  ],
  fbnet_block: [
    { op: 'fbnet_block', block: 'k3_e1_g2', input: [16, 16, 16], out: 24, stride: 1 },
    { op: 'fbnet_block', block: 'k5_e6', input: [24, 16, 16], out: 24, stride: 1 },
    { op: 'fbnet_block', block: 'skip', input: [24, 16, 16], out: 32, stride: 2 },
    { op: 'fbnet_block', block: 'skip', input: [24, 16, 16], out: 24, stride: 1 },
  ],
  nb201_op: [
    { op: 'nb201_op', edge: 'nor_conv_3x3', input: [16, 8, 8] },
    { op: 'nb201_op', edge: 'avg_pool_3x3', input: [16, 8, 8] },
    { op: 'nb201_op', edge: 'none', input: [16, 8, 8] },
    { op: 'nb201_op', edge: 'skip_connect', input: [16, 8, 8] },
  ],
  nb201_cell: [
    { op: 'nb201_cell', input: [16, 8, 8], edges: ['nor_conv_3x3', 'none', 'avg_pool_3x3', 'skip_connect', 'nor_conv_1x1', 'none'] },
    { op: 'nb201_cell', input: [16, 8, 8], edges: ['none', 'none', 'none', 'skip_connect', 'none', 'none'] },
    { op: 'nb201_cell', input: [16, 8, 8], edges: ['none', 'none', 'none', 'none', 'none', 'none'] },
  ],
  nb201_reduction: [{ op: 'nb201_reduction', input: [16, 32, 32], out: 32 }],
  nb201_head: [{ op: 'nb201_head', input: [64, 8, 8], classes: 10 }],
};

test('every registered op has an example here', () => {
  assert.deepEqual(Object.keys(OPS).sort(), Object.keys(EXAMPLES).sort());
});

for (const [op, specs] of Object.entries(EXAMPLES)) {
  test(`${op}: builds, loads in onnxruntime and its output shape is the computed one`, async () => {
    for (const spec of specs) {
      const graph = lowerSpec(spec);
      const batch = 2;
      const bytes = buildOnnx(graph, { batch });
      const ins = opDef(spec.op).inputs(spec).map((s) => [batch, ...s]);
      const out = await runOnnx(bytes, ins);
      assert.deepEqual([...out.dims], [batch, ...outputShape(spec)], specKey(spec));
      assert.ok(out.data.every(Number.isFinite), `${specKey(spec)} output is finite`);
    }
  });
}

test('a zero edge really outputs zeros and an all-none cell is zero', async () => {
  for (const spec of [EXAMPLES.nb201_op?.[2], EXAMPLES.nb201_cell?.[2]] as OpSpec[]) {
    const out = await runOnnx(buildOnnx(lowerSpec(spec)), [[1, 16, 8, 8]]);
    assert.ok(out.data.every((v) => v === 0));
  }
});

test('the same seed gives the same bytes; another seed other weights', () => {
  const g = lowerSpec({ op: 'conv2d', input: [4, 8, 8], out: 4, kernel: 3 });
  assert.deepEqual(buildOnnx(g, { seed: 7 }), buildOnnx(g, { seed: 7 }));
  assert.notDeepEqual(buildOnnx(g, { seed: 7 }), buildOnnx(g, { seed: 8 }));
});

test('dynamic batch and named inputs/outputs', async () => {
  const spec: OpSpec = { op: 'add', input: [3, 4, 4] };
  const bytes = buildOnnx(lowerSpec(spec), { dynamicBatch: true, inputNames: ['a', 'b'], outputName: 'sum' });
  for (const batch of [1, 5]) {
    const out = await runOnnx(bytes, [[batch, 3, 4, 4], [batch, 3, 4, 4]]);
    assert.deepEqual([...out.dims], [batch, 3, 4, 4]);
  }
  assert.throws(() => buildOnnx(lowerSpec(spec), { inputNames: ['a'] }), /'inputNames' must name 2 inputs/);
  assert.throws(() => buildOnnx(lowerSpec(spec), { batch: 0 }), /'batch' must be an integer >= 1, got 0/);
});

test('hand-computed features of a conv', () => {
  const f = features({ op: 'conv2d', input: [16, 32, 32], out: 32, kernel: 3, stride: 2 });
  assert.equal(f.outH, 16);
  assert.equal(f.outC, 32);
  assert.equal(f.macs, 32 * 16 * 16 * 16 * 9);
  assert.equal(f.flops, 2 * f.macs);
  assert.equal(f.params, 32 * 16 * 9);
  assert.equal(f.memoryBytes, 4 * (16 * 32 * 32 + 32 * 16 * 16 + 32 * 16 * 9));
  assert.equal(f.kernel, 3);
  assert.equal(f.stride, 2);
  const dw = features({ op: 'dwconv', input: [16, 8, 8], kernel: 3 });
  assert.equal(dw.groups, 16);
  assert.equal(dw.macs, 16 * 8 * 8 * 9);
});

test('bad specs are rejected with the field named', () => {
  assert.throws(() => validateSpec({ op: 'conv3d', input: [1, 2, 2] }), (e: unknown) => {
    assert.ok(e instanceof UnknownKeyError);
    assert.match((e as Error).message, /unknown op 'conv3d'; known: conv2d, dwconv/);
    return true;
  });
  assert.throws(() => validateSpec({ op: 'conv2d', input: [8, 8, 8], out: 8, kernel: 0 }), /'kernel' must be a positive integer, got 0/);
  assert.throws(() => validateSpec({ op: 'conv2d', input: [8, 8], out: 8, kernel: 3 }), /'input' must be \[C, H, W\]/);
  assert.throws(() => validateSpec({ op: 'fbnet_block', block: 'k7_e6', input: [8, 8, 8], out: 8, stride: 1 }), /'block' must be one of k3_e1/);
  assert.throws(() => validateSpec(42), /must be an object with an 'op' field/);
  assert.throws(
    () => validateSpec({ op: 'expanded_conv', input: [16, 8, 8], out: 24, expand: 3, kernel: 3, stride: 1, idskip: true }),
    /'idskip' needs stride 1 and equal channels/,
  );
  assert.throws(() => lowerSpec({ op: 'conv2d', input: [6, 8, 8], out: 8, kernel: 3, groups: 4 }), /'groups' \(4\) must divide/);
  assert.throws(
    () => validateSpec({ op: 'conv_bn_act', name: 'Conv', input: [3, 8, 8], out: 8, kernel: 5, act: 'relu6' }),
    /named 'Conv' must have kernel 3/,
  );
});
