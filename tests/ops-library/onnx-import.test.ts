import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildOnnx, getSpace, importNetwork, kernels, lowerNetwork, sampleArchs, SPACES } from '../../ops-library/index.ts';
import {
  importOnnx, OnnxFormatError, ShapeInferenceError, stripOnnx, SymbolicDimensionError, UnsupportedOperatorError, type IrGraph,
} from '../../ops-library/onnx/import/index.ts';
import { torchvisionModels } from '../helpers/torchvision.ts';
import { attr, floatTensor, int64Tensor, ortValueShapes, tinyModel } from './onnx-test-models.ts';

/** every tensor ORT computes has the shape the importer inferred; returns how many were compared */
async function assertShapesMatchOrt(bytes: Uint8Array, ir: IrGraph, label: string): Promise<number> {
  const real = await ortValueShapes(bytes, ir);
  let compared = 0;
  for (const [name, dims] of real) {
    const v = ir.values.get(name);
    assert.ok(v, `${label}: ORT computes '${name}', which the import lacks`);
    assert.deepEqual([...v.shape], dims, `${label}: shape of '${name}'`);
    compared++;
  }
  return compared;
}

const sameImport = (a: IrGraph, b: IrGraph) => {
  assert.deepEqual(a.nodes, b.nodes);
  assert.deepEqual([...a.values.keys()], [...b.values.keys()]);
  for (const [k, v] of a.values) assert.deepEqual(b.values.get(k)?.shape, v.shape, k);
};

test('every torchvision model imports, and every inferred shape is the one ORT computes; stripped files import the same', async (t) => {
  const models = torchvisionModels(t);
  if (!models) return;
  for (const [name, path] of models) {
    const bytes = readFileSync(path);
    const ir = importOnnx(bytes);
    assert.deepEqual(ir.values.get(ir.outputs[0] as string)?.shape, [1, 1000], name);
    assert.ok(ir.nodes.every((n) => n.inputs.some((i) => i && !ir.values.get(i)?.constant)), `${name}: a node of constants only survived folding`);
    const compared = await assertShapesMatchOrt(bytes, ir, name);
    assert.ok(compared >= ir.nodes.length, `${name}: ${compared} tensors compared`);
    const stripped = stripOnnx(bytes);
    assert.ok(stripped.bytes.byteLength < Math.max(400_000, bytes.byteLength / 20), `${name}: stripped to ${stripped.bytes.byteLength} bytes from ${bytes.byteLength}`);
    sameImport(ir, importOnnx(stripped.bytes));
    t.diagnostic(`${name}: ${ir.nodes.length} nodes, ${compared} shapes equal ORT's; ${(bytes.byteLength / 1e6).toFixed(1)} MB → ${(stripped.bytes.byteLength / 1e3).toFixed(0)} kB stripped`);
  }
});

test("the built-in spaces' networks import to ORT's shapes", async () => {
  for (const [space, arch] of [['nasbench201', null], ['proxyless-mobile', null], ['fbnet', null], ['mobilenetv2', null]] as const) {
    const s = getSpace(space);
    const a = arch ?? s.anchor ?? s.format(s.positions.map((p) => (p.choices[1] ?? p.choices[0])?.name as string));
    const bytes = buildOnnx(lowerNetwork(s.expand(a)), { batch: 2 });
    const ir = importOnnx(bytes);
    assert.ok((await assertShapesMatchOrt(bytes, ir, space)) > 10);
  }
});

/** a graph's nodes with value names replaced by their role: inputs numbered, constants by shape (and small data) */
function structure(g: IrGraph): string[] {
  const ids = new Map<string, string>();
  const id = (v: string): string => {
    if (!v) return '';
    if (!ids.has(v)) {
      const x = g.values.get(v) as NonNullable<ReturnType<typeof g.values.get>>;
      ids.set(v, x.constant ? `C${JSON.stringify(x.shape)}${x.data && x.data.length <= 8 ? JSON.stringify(x.data) : ''}` : `v${ids.size}${JSON.stringify(x.shape)}`);
    }
    return ids.get(v) as string;
  };
  g.inputs.forEach(id);
  return g.nodes.map((n) => `${n.op} ${JSON.stringify(n.attrs, Object.keys(n.attrs).sort())} ${n.inputs.map(id).join(',')} -> ${n.outputs.map(id).join(',')}`);
}

test("a space's network imported directly (importNetwork) is the IR of its built ONNX model, node for node, and gives the same kernels", () => {
  for (const name of Object.keys(SPACES)) {
    const space = getSpace(name);
    for (const arch of space.positions.length > 0 ? sampleArchs(space, { count: 4, seed: 13 }) : ['']) {
      const net = space.expand(arch);
      const direct = importNetwork(net, { batch: 2 });
      const viaOnnx = importOnnx(buildOnnx(lowerNetwork(net), { batch: 2 }));
      assert.deepEqual(structure(direct), structure(viaOnnx), `${name} ${arch}`);
      const strip = (ks: ReturnType<typeof kernels>) => ks.map(({ nodes: _, ...k }) => k);
      assert.deepEqual(strip(kernels(direct)), strip(kernels(viaOnnx)), `${name} ${arch}: kernels`);
      // every node is named after its layer
      assert.ok(direct.nodes.every((n) => net.layers.some((l) => n.name.startsWith(`${l.name}/`))), `${name}: layer names`);
    }
  }
});

test('constant folding: Shape → Gather → Unsqueeze → Concat → Reshape, ConstantOfShape, Cast and arithmetic leave no node behind', async () => {
  const bytes = tinyModel({
    inputs: [['x', [2, 8, 6, 6]]],
    outputs: ['y', 'z'],
    initializers: [int64Tensor('zero', [0], []), int64Tensor('one', [1], []), int64Tensor('minus1', [-1]), int64Tensor('two', [2], []), int64Tensor('one1d', [1])],
    nodes: [
      ['Shape', ['x'], ['s']],
      ['Gather', ['s', 'zero'], ['n'], [attr.int('axis', 0)]],
      ['Gather', ['s', 'one'], ['c']],
      ['Div', ['c', 'two'], ['half']],
      ['Unsqueeze', ['n', 'zero'], ['n1']],
      ['Unsqueeze', ['half', 'zero'], ['h1']],
      ['Concat', ['n1', 'h1', 'minus1'], ['shape'], [attr.int('axis', 0)]],
      ['Cast', ['shape'], ['shape64'], [attr.int('to', 7)]],
      ['Reshape', ['x', 'shape64'], ['y']],
      ['Concat', ['h1', 'one1d'], ['h11'], [attr.int('axis', 0)]],
      ['ConstantOfShape', ['h11'], ['ones'], [attr.tensor('value', { dims: [1], dataType: 1, floatData: [1] })]],
      ['Constant', [], ['k'], [attr.tensor('value', floatTensor('k', [1], () => 3))]],
      ['Mul', ['ones', 'k'], ['threes']],
      ['Add', ['y', 'threes'], ['z0']],
      ['Softmax', ['z0'], ['z'], [attr.int('axis', -1)]],
    ],
  });
  const ir = importOnnx(bytes);
  assert.deepEqual(ir.nodes.map((n) => n.op), ['Reshape', 'Add', 'Softmax']);
  assert.deepEqual(ir.values.get('shape64')?.data, [2, 4, -1]);
  assert.deepEqual(ir.values.get('threes')?.data, [3, 3, 3, 3]);
  assert.deepEqual(ir.values.get('y')?.shape, [2, 4, 72]);
  await assertShapesMatchOrt(bytes, ir, 'folding');
});

test('pools with asymmetric pads and ceil_mode, Pad, SAME convolutions, Resize, Split, Slice, LRN, Sum, MatMul with batch dims, LayerNorm: ORT shapes', async () => {
  const bytes = tinyModel({
    inputs: [['x', [1, 4, 17, 17]]],
    outputs: ['o1', 'o2', 'o3', 'o4', 'o5'],
    initializers: [
      floatTensor('w', [8, 4, 3, 3]), int64Tensor('pads', [0, 0, 1, 2, 0, 0, 2, 1]), floatTensor('scales', [4], (i) => (i < 2 ? 1 : 2)),
      int64Tensor('split', [3, 5]), int64Tensor('st', [1, -9]), int64Tensor('en', [100, -1]), int64Tensor('ax', [2, 3]), int64Tensor('stp', [2, 3]),
      floatTensor('m', [2, 3, 9, 5]), floatTensor('lnw', [27]), int64Tensor('axes', [2, 3]),
    ],
    nodes: [
      ['MaxPool', ['x'], ['p1'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [0, 0, 1, 1]), attr.int('ceil_mode', 1)]],
      ['AveragePool', ['x'], ['p2'], [attr.ints('kernel_shape', [3, 2]), attr.ints('strides', [2, 3]), attr.ints('pads', [1, 0, 0, 1]), attr.int('ceil_mode', 1), attr.int('count_include_pad', 0)]],
      ['Pad', ['p2', 'pads'], ['pd']],
      ['Conv', ['x', 'w'], ['cv'], [attr.str('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])]],
      ['Resize', ['cv', '', 'scales'], ['rs'], [attr.str('mode', 'nearest')]],
      ['Split', ['rs', 'split'], ['s1', 's2'], [attr.int('axis', 1)]],
      ['Slice', ['s2', 'st', 'en', 'ax', 'stp'], ['sl']],
      ['LRN', ['s1'], ['lrn'], [attr.int('size', 3)]],
      ['Sum', ['lrn', 'lrn', 'lrn'], ['o1']],
      ['Transpose', ['sl'], ['tr'], [attr.ints('perm', [1, 0, 3, 2])]],
      ['Constant', [], ['rshape'], [attr.tensor('value', int64Tensor('rshape', [1, 0, 5, -1]))]],
      ['Reshape', ['tr', 'rshape'], ['r3']],
      ['MatMul', ['m', 'r3'], ['mm']],
      ['LayerNormalization', ['mm', 'lnw'], ['o2'], [attr.int('axis', -1)]],
      ['ReduceMean', ['p1'], ['o3'], [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)]],
      ['Flatten', ['pd'], ['o4'], [attr.int('axis', 2)]],
      ['Squeeze', ['o3plus'], ['o5']],
      ['Unsqueeze', ['o3', 'axes'], ['o3plus']],
    ],
  });
  const ir = importOnnx(bytes);
  assert.deepEqual(ir.values.get('p1')?.shape, [1, 4, 9, 9]);
  assert.deepEqual(ir.nodes.find((n) => n.op === 'Conv')?.attrs.pads, [1, 1, 1, 1]);
  assert.ok((await assertShapesMatchOrt(bytes, ir, 'ops')) >= ir.nodes.length);
});

test('bad input gets a typed error naming the problem', async () => {
  const good = buildOnnx(lowerNetwork(getSpace('resnet18').expand('')), { batch: 1 });
  assert.throws(() => importOnnx(new TextEncoder().encode('this is not an ONNX model, just text')), OnnxFormatError);
  assert.throws(() => importOnnx(new Uint8Array()), /empty/);
  assert.throws(() => importOnnx(good.subarray(0, Math.floor(good.byteLength / 2))), OnnxFormatError);
  assert.throws(() => importOnnx(good.subarray(0, 100)), OnnxFormatError);
  // every unsupported operator, each with its node
  const custom = tinyModel({
    inputs: [['x', [1, 4]]],
    outputs: ['z'],
    nodes: [['NonZero', ['x'], ['y']], ['Relu', ['y'], ['y2']], { opType: 'Frobnicate', domain: 'com.example', input: ['y2'], output: ['z'], name: 'mystery' }],
  });
  assert.throws(() => importOnnx(custom), (e: unknown) => {
    assert.ok(e instanceof UnsupportedOperatorError);
    assert.match(e.message, /NonZero \(node 'NonZero_0'\).*com\.example:Frobnicate \(node 'mystery'\)/);
    assert.deepEqual(e.operators.map((o) => o.op), ['NonZero', 'com.example:Frobnicate']);
    return true;
  });
  // a symbolic batch: refused without inputShape, which the message names; accepted with it
  const dynamic = buildOnnx(lowerNetwork(getSpace('resnet18').expand('')), { dynamicBatch: true });
  assert.throws(() => importOnnx(dynamic), (e: unknown) => e instanceof SymbolicDimensionError && /--input-shape 1x3x224x224/.test(e.message) && /'input'/.test(e.message));
  const ir = importOnnx(dynamic, { inputShape: [4, 3, 224, 224] });
  assert.deepEqual(ir.values.get(ir.outputs[0] as string)?.shape, [4, 1000]);
  assert.throws(() => importOnnx(dynamic, { inputShape: [4, 3, 32, 32, 1] }), /does not match graph input 'input'/);
  assert.throws(() => importOnnx(dynamic, { inputShape: { image: [1, 3, 224, 224] } }), /'image', which is not a graph input/);
  // a shape only known at run time, and inconsistent shapes: the node and the reason
  const runtimeShape = tinyModel({ inputs: [['x', [1, 4]], ['s', [2]]], outputs: ['y'], nodes: [['Cast', ['s'], ['s64'], [attr.int('to', 7)]], ['Reshape', ['x', 's64'], ['y']]] });
  assert.throws(() => importOnnx(runtimeShape), (e: unknown) => e instanceof ShapeInferenceError && /Reshape node 'Reshape_1'.*computed at run time/.test(e.message));
  const mismatch = tinyModel({ inputs: [['x', [1, 4]], ['y', [1, 5]]], outputs: ['z'], nodes: [['Add', ['x', 'y'], ['z']]] });
  assert.throws(() => importOnnx(mismatch), /Add node 'Add_0'.*\[1,4\] and \[1,5\] do not broadcast/);
  // a stripped file keeps its shapes but not its weights: small tensors keep their data
  const stripped = stripOnnx(good);
  assert.ok(stripped.stripped > 10 && stripped.bytes.byteLength < good.byteLength / 50);
  sameImport(importOnnx(good), importOnnx(stripped.bytes));
});
