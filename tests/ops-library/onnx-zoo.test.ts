import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import onnxProto from 'onnx-proto';
import { profileKernels } from '../../agent/backends/ort-kernels.ts';
import { importOnnx, kernels, stripOnnx } from '../../ops-library/index.ts';
import { torchvisionModels, type TorchvisionModel } from '../helpers/torchvision.ts';
import { describeDiff, kernelDiff } from './kernel-truth.ts';
import { ortValueShapes } from './onnx-test-models.ts';

const { onnx } = onnxProto;

/**
 * A model rewritten as classic model-zoo files are: every weight made at load time by a
 * ConstantOfShape node (a constant fill), not stored as an initializer. ORT folds them away;
 * so must the importer.
 */
function weightsAsConstantOfShape(bytes: Uint8Array): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxProto.onnx.GraphProto;
  const made: onnxProto.onnx.INodeProto[] = [];
  const kept: onnxProto.onnx.ITensorProto[] = [];
  for (const t of graph.initializer) {
    const dims = (t.dims ?? []).map(Number);
    if (t.dataType !== 1 || dims.reduce((a, b) => a * b, 1) <= 1) {
      kept.push(t);
      continue;
    }
    const shape = `${t.name}__shape`;
    kept.push({ name: shape, dims: [dims.length], dataType: 7, rawData: new Uint8Array(new BigInt64Array(dims.map(BigInt)).buffer) });
    made.push({
      opType: 'ConstantOfShape', name: `${t.name}__fill`, input: [shape], output: [t.name as string],
      attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: { dims: [1], dataType: 1, floatData: [0.01] } }],
    });
  }
  graph.initializer = kept;
  graph.node = [...made, ...graph.node];
  // files that list their initializers as graph inputs too (old exporters) must not list the made ones
  const made_ = new Set(made.map((n) => n.output?.[0]));
  graph.input = graph.input.filter((i) => !made_.has(i.name as string));
  return onnx.ModelProto.encode(model).finish();
}

// older opsets, as zoo files use them: Pad/Slice/Unsqueeze/Split/Clip with attributes, no HardSwish
const ZOO: ReadonlyArray<[TorchvisionModel, number]> = [
  ['squeezenet1_0', 9], ['resnet18', 9], ['densenet121', 9], ['googlenet', 11], ['shufflenet_v2_x1_0', 11], ['mobilenet_v3_small', 13],
];

test('model-zoo style files (opsets 9–13, weights as ConstantOfShape) import to ORT\'s shapes and decompose into ORT\'s kernels', async (t) => {
  for (const [name, opset] of ZOO) {
    const files = torchvisionModels(t, [name], opset);
    if (!files) return;
    const bytes = weightsAsConstantOfShape(readFileSync(files.get(name) as string));
    const ir = importOnnx(bytes);
    assert.ok(ir.nodes.every((n) => n.op !== 'ConstantOfShape'), `${name}@${opset}: ConstantOfShape folded`);
    for (const [v, dims] of await ortValueShapes(bytes, ir)) assert.deepEqual(ir.values.get(v)?.shape, dims, `${name}@${opset}: shape of '${v}'`);
    const d = kernelDiff(kernels(ir, 'ort-cpu'), (await profileKernels(bytes, { runs: 1, warmup: 0 })).kernels);
    assert.ok(d.missing.length === 0 && d.extra.length === 0, describeDiff(`${name}@${opset}`, d));
    // stripping leaves a zoo file's (small) fill constants alone and imports the same
    assert.deepEqual(importOnnx(stripOnnx(bytes).bytes).nodes, ir.nodes);
    t.diagnostic(`${name} opset ${opset}: ${bytes.byteLength} bytes, ${ir.nodes.length} nodes, kernels equal ORT's`);
  }
});
