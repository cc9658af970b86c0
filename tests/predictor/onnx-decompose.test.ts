import assert from 'node:assert/strict';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { buildOnnx, getSpace, graphCost, lowerNetwork, lowerSpec, sampleArchs, specKey, type OpSpec } from '../../ops-library/index.ts';
import { decomposeOnnx, OnnxFormatError, UnsupportedOnnxError } from '../../predictor/onnx/index.ts';

const sumCost = (specs: OpSpec[]) =>
  specs.map((s) => graphCost(lowerSpec(s))).reduce((a, c) => ({ macs: a.macs + c.macs, params: a.params + c.params }), { macs: 0, params: 0 });

test('decomposeOnnx: whole networks built by ops-library decompose into kernels with the same MACs and parameters', () => {
  const cases: Array<[string, string]> = [
    ['nasbench201', '|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|'],
    ['fbnet', sampleArchs(getSpace('fbnet'), { count: 1, seed: 4 })[0] as string],
    ['proxyless-mobile', sampleArchs(getSpace('proxyless-mobile'), { count: 1, seed: 2 })[0] as string],
  ];
  for (const [spaceName, arch] of cases) {
    const net = getSpace(spaceName).expand(arch);
    const graph = lowerNetwork(net);
    const d = decomposeOnnx(buildOnnx(graph));
    assert.deepEqual(d.input, [...net.input]);
    const want = graphCost(graph);
    const got = sumCost(d.kernels.map((k) => k.spec));
    assert.equal(got.macs, want.macs, `${spaceName}: MACs`);
    // BN parameters are folded into conv_bn_act kernels the same way ops-library counts them
    assert.equal(got.params, want.params, `${spaceName}: parameters`);
    for (const k of d.kernels) assert.equal(k.key, specKey(k.spec));
    // Conv → BN (→ activation) chains are one kernel each: a BatchNormalization stands alone only
    // where no Conv feeds it (NAS-Bench-201's head: BN → ReLU after the last cell's sum)
    const alone = d.kernels.filter((k) => k.opTypes.length === 1 && k.opTypes[0] === 'BatchNormalization').length;
    assert.equal(alone, spaceName === 'nasbench201' ? 1 : 0, `${spaceName}: BNs fused`);
    assert.ok(d.kernels.some((k) => k.spec.op === 'conv_bn_act' && k.opTypes.join('+').startsWith('Conv+BatchNormalization')), spaceName);
  }
  // FBNet blocks: conv→BN→ReLU is one kernel with the activation; ReLU-conv-BN (NB-201) keeps its ReLU apart
  const fb = decomposeOnnx(buildOnnx(lowerNetwork(getSpace('fbnet').expand(cases[1]?.[1] as string))));
  assert.ok(fb.kernels.some((k) => k.opTypes.join('+') === 'Conv+BatchNormalization+Relu'));
  const nb = decomposeOnnx(buildOnnx(lowerNetwork(getSpace('nasbench201').expand(cases[0]?.[1] as string))));
  assert.ok(nb.kernels.some((k) => k.spec.op === 'relu'));
  assert.ok(nb.free.length > 0, 'Flatten and Identity cost nothing');
});

test('decomposeOnnx: a single conv_bn_act or conv2d spec comes back as itself (same LUT key)', () => {
  const specs: OpSpec[] = [
    { op: 'conv_bn_act', input: [16, 32, 32], out: 32, kernel: 3, stride: 2, groups: 1, act: 'relu6' },
    { op: 'conv_bn_act', input: [32, 16, 16], out: 32, kernel: 5, stride: 1, groups: 32, act: 'relu' },
    { op: 'conv2d', input: [8, 20, 20], out: 16, kernel: 3, stride: 1, padding: 0, groups: 1, dilation: 1, bias: true },
  ];
  for (const spec of specs) {
    const d = decomposeOnnx(buildOnnx(lowerSpec(spec)));
    assert.deepEqual(d.kernels.map((k) => k.key), [specKey(spec)], JSON.stringify(spec));
  }
});

test('decomposeOnnx: bytes that are not ONNX, and operators without a spec, are errors naming them', () => {
  assert.throws(() => decomposeOnnx(new Uint8Array()), OnnxFormatError);
  assert.throws(() => decomposeOnnx(new TextEncoder().encode('hello, not a model at all')), (e: Error) => e instanceof OnnxFormatError && /not an ONNX model/.test(e.message));
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(buildOnnx(lowerSpec({ op: 'conv2d', input: [3, 8, 8], out: 4, kernel: 3 })));
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const last = graph.output[0]?.name as string;
  graph.node.push(onnx.NodeProto.create({ opType: 'Softmax', input: [last], output: ['p'], name: 'sm' }));
  graph.node.push(onnx.NodeProto.create({ opType: 'LSTM', input: ['p'], output: ['q'], name: 'rnn' }));
  assert.throws(
    () => decomposeOnnx(onnx.ModelProto.encode(model).finish()),
    (e: Error) => e instanceof UnsupportedOnnxError && /unsupported ONNX operators: Softmax, LSTM; supported: Conv, /.test(e.message),
  );
});
